/* SPDX-License-Identifier: BSD-2-Clause */
/* Payload capture: selection, kernel maps, records -> pipeline (payload_bpf.h). */
#include "payload_bpf.h"

#include "flow_table.h"
#include "pipeline.h"
#include "pkt_parse.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pipeline's port hints (l7/pipeline.c port_hint()). */
const uint16_t payload_default_ports[] = {
	80, 81, 3128, 8000, 8008, 8080, 8888,   /* HTTP/1.x, HTTP/2 cleartext */
	50051,                                  /* gRPC */
	53, 5353, 5355,                         /* DNS, mDNS, LLMNR */
	9092, 9093, 9094, 29092,                /* Kafka */
	0
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void payload_select_defaults(struct payload_select *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = true;
	s->tcp = s->udp = true;
	for (const uint16_t *p = payload_default_ports; *p; p++)
		payload_select_port(s, *p);
	s->snaplen = PAYLOAD_SNAP_DEFAULT;
	s->budget_bytes = PAYLOAD_BUDGET_DEFAULT;
}

static int parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;

	if (!n || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int payload_select_parse_ports(struct payload_select *s, const char *spec, char *err, size_t errlen)
{
	uint64_t ports[PAYLOAD_PORT_WORDS] = { 0 };
	bool any = false;
	const char *p = spec;

	if (!spec || !*spec)
		return errf(err, errlen, "empty port list");
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *dash = memchr(p, '-', n);
		uint16_t lo, hi;

		if (n == 3 && !strncmp(p, "any", 3)) {
			any = true;
		} else if (n == 7 && !strncmp(p, "default", 7)) {
			for (const uint16_t *d = payload_default_ports; *d; d++)
				ports[*d >> 6] |= 1ull << (*d & 63);
		} else {
			if (dash ? parse_port(p, (size_t)(dash - p), &lo) ||
			           parse_port(dash + 1, n - (size_t)(dash - p) - 1, &hi)
			         : parse_port(p, n, &lo))
				return errf(err, errlen, "bad port \"%.*s\" (a port 0-65535, a range LO-HI, "
				            "\"default\" or \"any\")", (int)n, p);
			if (!dash)
				hi = lo;
			if (hi < lo)
				return errf(err, errlen, "bad port range \"%.*s\"", (int)n, p);
			for (uint32_t v = lo; v <= hi; v++)
				ports[v >> 6] |= 1ull << (v & 63);
		}
		p += n;
		if (*p == ',' && !*++p)
			return errf(err, errlen, "empty item at the end of \"%s\"", spec);
	}
	memcpy(s->ports, ports, sizeof(ports));
	s->all_ports = any;
	return 0;
}

int payload_select_parse_cidrs(struct payload_select *s, const char *spec, char *err, size_t errlen)
{
	const char *p = spec;

	if (!spec || !*spec)
		return errf(err, errlen, "empty CIDR list");
	while (*p) {
		size_t n = strcspn(p, ",");
		char buf[INET6_ADDRSTRLEN + 8];
		struct payload_cidr c;
		char *slash, *end;
		long bits;

		if (n == 0 || n >= sizeof(buf))
			return errf(err, errlen, "bad CIDR \"%.*s\"", (int)n, p);
		memcpy(buf, p, n);
		buf[n] = '\0';
		memset(&c, 0, sizeof(c));
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (inet_pton(AF_INET, buf, c.addr) == 1)
			c.family = 4;
		else if (inet_pton(AF_INET6, buf, c.addr) == 1)
			c.family = 6;
		else
			return errf(err, errlen, "bad address in \"%.*s\"", (int)n, p);
		bits = c.family == 4 ? 32 : 128;
		if (slash) {
			errno = 0;
			bits = strtol(slash + 1, &end, 10);
			if (errno || end == slash + 1 || *end || bits < 0 || bits > (c.family == 4 ? 32 : 128))
				return errf(err, errlen, "bad prefix length in \"%.*s\"", (int)n, p);
		}
		c.prefix = (uint8_t)bits;
		/* host bits must be zero, as the trie compares them */
		for (int i = 0; i < 16; i++) {
			int keep = c.prefix - i * 8;
			if (keep <= 0)
				c.addr[i] = 0;
			else if (keep < 8)
				c.addr[i] &= (uint8_t)(0xff << (8 - keep));
		}
		if (s->n_cidrs >= PAYLOAD_CIDRS_MAX)
			return errf(err, errlen, "more than %d CIDRs", PAYLOAD_CIDRS_MAX);
		s->cidrs[s->n_cidrs++] = c;
		p += n;
		if (*p == ',' && !*++p)
			return errf(err, errlen, "empty item at the end of \"%s\"", spec);
	}
	return 0;
}

int payload_select_parse_l4(struct payload_select *s, const char *spec, char *err, size_t errlen)
{
	bool tcp = false, udp = false;
	const char *p = spec;

	if (!spec || !*spec)
		return errf(err, errlen, "empty protocol list");
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 3 && !strncasecmp(p, "tcp", 3))
			tcp = true;
		else if (n == 3 && !strncasecmp(p, "udp", 3))
			udp = true;
		else
			return errf(err, errlen, "bad protocol \"%.*s\" (tcp, udp)", (int)n, p);
		p += n;
		if (*p == ',' && !*++p)
			return errf(err, errlen, "empty item at the end of \"%s\"", spec);
	}
	s->tcp = tcp;
	s->udp = udp;
	return 0;
}

static bool cidr_has(const struct payload_cidr *c, uint8_t family, const uint8_t addr[16])
{
	if (c->family != family)
		return false;
	for (int i = 0; i < 16; i++) {
		int keep = c->prefix - i * 8;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if ((addr[i] & mask) != c->addr[i])
			return false;
	}
	return true;
}

bool payload_select_matches(const struct payload_select *s, uint8_t family, const uint8_t a[16],
                            uint16_t ap, const uint8_t b[16], uint16_t bp, uint8_t proto)
{
	bool cidr = !s->n_cidrs;

	if (!s->enabled || !((proto == 6 && s->tcp) || (proto == 17 && s->udp)))
		return false;
	if (!payload_select_has_port(s, ap) && !payload_select_has_port(s, bp))
		return false;
	for (size_t i = 0; i < s->n_cidrs && !cidr; i++)
		cidr = cidr_has(&s->cidrs[i], family, a) || cidr_has(&s->cidrs[i], family, b);
	return cidr;
}

int payload_bpf_prepare(struct bpf_object *obj, uint64_t ring_bytes)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "payload_ring");
	struct bpf_map *buf = bpf_object__find_map_by_name(obj, "payload_buf");
	uint64_t sz = (uint64_t)sysconf(_SC_PAGESIZE);
	int ncpus = libbpf_num_possible_cpus(), err;

	if (!m || !buf)
		return -ENOENT;
	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	if (ring_bytes > (1ull << 30))
		return -E2BIG;
	while (sz < ring_bytes)
		sz <<= 1;
	if ((err = bpf_map__set_max_entries(m, (uint32_t)sz)))
		return err;
	return bpf_map__set_max_entries(buf, (uint32_t)ncpus);
}

static int map_fd(struct bpf_object *obj, const char *name, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
	int fd = m ? bpf_map__fd(m) : -1;

	if (fd < 0) {
		errf(err, errlen, "the TC object has no loaded map %s", name);
		return -ENOENT;
	}
	return fd;
}

int payload_bpf_configure(struct bpf_object *obj, const struct payload_select *s,
                          char *err, size_t errlen)
{
	struct payload_config cfg, old;
	int cfg_fd, ports_fd, cidrs_fd;
	__u32 zero = 0;

	if ((cfg_fd = map_fd(obj, "payload_cfg", err, errlen)) < 0 ||
	    (ports_fd = map_fd(obj, "payload_ports", err, errlen)) < 0 ||
	    (cidrs_fd = map_fd(obj, "payload_cidrs", err, errlen)) < 0)
		return -ENOENT;
	if (s->snaplen < PAYLOAD_SNAP_MIN || s->snaplen > PAYLOAD_SNAP_MAX) {
		errf(err, errlen, "snap length %u out of range (%d..%d)", s->snaplen, PAYLOAD_SNAP_MIN,
		     PAYLOAD_SNAP_MAX);
		return -EINVAL;
	}
	for (__u32 w = 0; w < PAYLOAD_PORT_WORDS; w++) {
		__u64 v = s->ports[w];

		if (bpf_map_update_elem(ports_fd, &w, &v, BPF_ANY))
			goto map_err;
	}
	/* the trie holds exactly s->cidrs afterwards */
	for (;;) {
		struct payload_cidr_key k;

		if (bpf_map_get_next_key(cidrs_fd, NULL, &k))
			break;
		if (bpf_map_delete_elem(cidrs_fd, &k))
			goto map_err;
	}
	for (size_t i = 0; i < s->n_cidrs; i++) {
		struct payload_cidr_key k;
		__u8 one = 1;

		memset(&k, 0, sizeof(k));
		k.prefixlen = 8u + s->cidrs[i].prefix;
		k.family = s->cidrs[i].family;
		memcpy(k.addr, s->cidrs[i].addr, 16);
		if (bpf_map_update_elem(cidrs_fd, &k, &one, BPF_ANY))
			goto map_err;
	}
	memset(&old, 0, sizeof(old));
	bpf_map_lookup_elem(cfg_fd, &zero, &old);
	memset(&cfg, 0, sizeof(cfg));
	cfg.enabled = s->enabled;
	cfg.snaplen = s->snaplen;
	cfg.budget_bytes = s->budget_bytes;
	cfg.head_bytes = PAYLOAD_HEAD_BYTES;
	/* bytes per 2^20 ns at budget_bytes per second, at least 1 */
	cfg.budget_per_unit = (__u32)(((uint64_t)s->budget_bytes << 20) / 1000000000ull);
	if (s->budget_bytes && !cfg.budget_per_unit)
		cfg.budget_per_unit = 1;
	cfg.l4_mask = (s->tcp ? PAYLOAD_L4_TCP : 0) | (s->udp ? PAYLOAD_L4_UDP : 0);
	cfg.all_ports = s->all_ports;
	cfg.use_cidrs = s->n_cidrs > 0;
	cfg.use_marks = old.use_marks;
	cfg.probe_packets = s->probe_packets;
	cfg.wakeup_bytes = s->wakeup_bytes;
	if (!cfg.wakeup_bytes) {
		struct bpf_map *ring = bpf_object__find_map_by_name(obj, "payload_ring");
		cfg.wakeup_bytes = ring ? bpf_map__max_entries(ring) / 4 : 0;
	}
	if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
		goto map_err;
	return 0;
map_err:
	errf(err, errlen, "cannot write the payload selection maps: %s", strerror(errno));
	return -errno;
}

int payload_bpf_read_counters(int counters_fd, uint64_t out[PAYLOAD_CNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	uint64_t *v = calloc((size_t)ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 i = 0; i < PAYLOAD_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(counters_fd, &i, v)) {
			int err = -errno;
			free(v);
			return err;
		}
		for (int c = 0; c < ncpus; c++)
			out[i] += v[c];
	}
	free(v);
	return 0;
}

int payload_bpf_mark_endpoint(struct bpf_object *obj, uint8_t family, const uint8_t addr[16],
                              uint16_t port, uint8_t proto, uint8_t state)
{
	int marks_fd = map_fd(obj, "payload_marks", NULL, 0);
	int cfg_fd = map_fd(obj, "payload_cfg", NULL, 0);
	struct payload_mark_key k;
	struct payload_config cfg;
	__u32 zero = 0;

	if (marks_fd < 0 || cfg_fd < 0)
		return -ENOENT;
	memset(&k, 0, sizeof(k));
	memcpy(k.addr, addr, 16);
	k.port = port;
	k.family = family;
	k.proto = proto;
	if (state == PAYLOAD_UNDECIDED) {
		if (bpf_map_delete_elem(marks_fd, &k) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (state != PAYLOAD_ON && state != PAYLOAD_OFF)
		return -EINVAL;
	if (bpf_map_update_elem(marks_fd, &k, &state, BPF_ANY))
		return -errno;
	if (bpf_map_lookup_elem(cfg_fd, &zero, &cfg))
		return -errno;
	if (!cfg.use_marks) {
		cfg.use_marks = 1;
		if (bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY))
			return -errno;
	}
	return 0;
}

int payload_flow_mark(struct flow_table *t, const struct flow_table_cfg *cfg,
                      const struct flow_key *k, uint8_t state)
{
	__u64 w[FLOW_KEY_WORDS];
	struct flow_hash h;
	int n = 0;

	memcpy(w, k, sizeof(w));
	flow_table_hash(cfg, w, &h);
	for (int c = 0; c < 2; c++) {
		__u32 b = c ? h.b : h.a;

		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			struct flow_entry *e = flow_table_entry(t, b, i);

			if (flow_table_sig(t, b, i) != h.sig || memcmp(&e->key, k, sizeof(*k)))
				continue;
			__atomic_store_n(&e->pl_state, state, __ATOMIC_RELAXED);
			n++;
		}
	}
	return n;
}

int payload_record_feed(struct pipeline *pl, const void *data, size_t size, uint64_t ts_ns,
                        const char *ifname, struct payload_feed_stats *st)
{
	const struct payload_record *r = data;
	static __thread uint8_t frame[PAYLOAD_SNAP_MAX + 4];
	const uint8_t *f;
	uint32_t cap;
	struct pkt_info pi;
	int ps;

	if (size < sizeof(*r) || r->cap_len > size - sizeof(*r) || r->cap_len > PAYLOAD_SNAP_MAX ||
	    r->cap_len < 14) {
		st->bad_records++;
		return -1;
	}
	st->records++;
	f = payload_record_frame(r);
	cap = r->cap_len;
	if (r->flags & PAYLOAD_F_VLAN) {
		/* where the tag was on the wire, and where libpcap puts it back */
		memcpy(frame, f, 12);
		frame[12] = (uint8_t)(r->vlan_proto >> 8);
		frame[13] = (uint8_t)r->vlan_proto;
		frame[14] = (uint8_t)(r->vlan_tci >> 8);
		frame[15] = (uint8_t)r->vlan_tci;
		memcpy(frame + 16, f + 12, cap - 12);
		cap += 4;
		f = frame;
	}
	ps = pkt_parse_eth(f, f + cap, &pi);
	if (ps == PKT_OK || ps == PKT_L4_UNKNOWN) {
		pipeline_packet(pl, ts_ns, &pi, f, cap, r->wire_len, r->ifindex, ifname, r->direction);
	} else {
		st->parse_errors++;
		pipeline_tick(pl, ts_ns);
		pipeline_parse_error(pl, ps);
	}
	return 0;
}

/* --- command line ------------------------------------------------------------- */

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	default: return -1;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end || v > UINT64_MAX / mult)
		return -1;
	*out = v * mult;
	return 0;
}

int payload_parse_option(struct payload_options *o, const char *opt, const char *arg,
                         char *err, size_t errlen)
{
	char msg[200];
	uint64_t v;

	if (!strcmp(opt, "no-l7")) {
		o->on = false;
	} else if (!strcmp(opt, "l7")) {
		o->on = true;
	} else if (!strcmp(opt, "l7-ports")) {
		if (payload_select_parse_ports(&o->select, arg, msg, sizeof(msg)))
			return errf(err, errlen, "--l7-ports: %s", msg);
	} else if (!strcmp(opt, "l7-cidr")) {
		if (payload_select_parse_cidrs(&o->select, arg, msg, sizeof(msg)))
			return errf(err, errlen, "--l7-cidr: %s", msg);
	} else if (!strcmp(opt, "l7-proto")) {
		if (payload_select_parse_l4(&o->select, arg, msg, sizeof(msg)))
			return errf(err, errlen, "--l7-proto: %s", msg);
	} else if (!strcmp(opt, "l7-budget")) {
		if (parse_size(arg, &v) || v > UINT32_MAX)
			return errf(err, errlen, "--l7-budget: '%s' is not a size up to 4G (e.g. 512k, 1M, 0)",
			                  arg);
		o->select.budget_bytes = (uint32_t)v;
	} else if (!strcmp(opt, "l7-detect")) {
		if (parse_size(arg, &v) || v > 255)
			return errf(err, errlen, "--l7-detect: '%s' is not a number of packets from 0 to 255", arg);
		o->select.probe_packets = (uint8_t)v;
	} else if (!strcmp(opt, "snaplen")) {
		if (parse_size(arg, &v) || v < PAYLOAD_SNAP_MIN || v > PAYLOAD_SNAP_MAX)
			return errf(err, errlen, "--snaplen: '%s' is not a number from %d to %d", arg,
			                  PAYLOAD_SNAP_MIN, PAYLOAD_SNAP_MAX);
		o->select.snaplen = (uint32_t)v;
	} else if (!strcmp(opt, "ring-size")) {
		if (parse_size(arg, &v) || v < 4096 || v > (1ull << 30))
			return errf(err, errlen, "--ring-size: '%s' is not a size from 4k to 1G", arg);
		o->ring_size = v;
	} else {
		return 0;
	}
	return 1;
}
