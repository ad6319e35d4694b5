/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DNS over UDP (one message per datagram) and TCP (2-byte length prefix,
 * any number of messages per segment, messages split across segments).
 *
 * Field values follow what Hubble shows for its DNS proxy (cilium
 * pkg/fqdn/dnsproxy ExtractMsgDetails + pkg/hubble/parser/seven/dns.go):
 *   - query: the first question's name, lower-cased, with trailing dot,
 *     labels printed like miekg/dns does ("\." "\032" escapes);
 *   - qtypes/rrtypes: gopacket's DNSType names, "Unknown" for the rest;
 *   - ips: A/AAAA answers along the CNAME chain starting at the query;
 *     cnames: the chain's targets as sent; ttl: the lowest TTL of those
 *     A/AAAA/CNAME records, 4294967295 when there are none;
 *   - rcode: header rcode plus the EDNS extended rcode bits.
 * Differences, because we observe packets instead of being the resolver's
 * proxy: observation_source stays empty (it says "proxy" in Hubble, and
 * the Summary then reads "(Query ...)" instead of "(Proxy ...)"), latency_ns
 * is set on responses (Hubble leaves it 0), and messages Cilium drops
 * (answers off the chain, malformed tails) are still reported with what
 * could be decoded, the rest counted.
 *
 * Requests and responses are told apart by the QR bit, not by direction,
 * so a conversation whose first packet was a response still comes out
 * right; responses are matched to queries by id (and question) within the
 * conversation.
 */
#include "l7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 1100      /* 255 wire octets, each up to 4 printed chars */
#define DNS_MAX_PTRS 126       /* miekg/dns maxCompressionPointers */
#define DNS_MAX_QTYPES 32      /* questions listed per message */
#define DNS_MAX_ANSWERS 256    /* answer records examined per message */
#define DNS_MAX_CHAIN 16       /* CNAME chain names followed */
#define DNS_TCP_RESYNC_BUF 512

struct dns_pending {
	uint16_t id;
	uint8_t dir;          /* direction the query travelled */
	bool answered;
	uint32_t qhash;       /* first question (name, type) */
	uint64_t ts_ns;
};

struct dns_tcp_dir {
	uint8_t lenbuf[2];
	size_t lenhave;       /* bytes of the length prefix read */
	uint8_t *msg;         /* message being assembled */
	size_t need, have;
	uint64_t skip;        /* bytes still to drop (message broken by a gap) */
	bool desync;          /* framing lost: scanning for a plausible message */
	uint8_t scan[DNS_TCP_RESYNC_BUF];
	size_t scan_len;
};

struct dns_state {
	enum l7_transport transport;
	size_t max_pending;
	struct dns_pending *pending;   /* oldest first; grown on demand */
	size_t n_pending, cap_pending;
	struct dns_tcp_dir *tcp;       /* [2], TCP only */
};

/* --- names and formatting ------------------------------------------------ */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Printable bytes miekg/dns escapes with a backslash in a label. */
static const bool label_special[256] = {
	['.'] = true, [' '] = true, ['\''] = true, ['@'] = true, [';'] = true, ['('] = true,
	[')'] = true, ['"'] = true, ['\\'] = true,
};

/* miekg/dns UnpackDomainName: follows compression pointers (forward ones
 * too, at most DNS_MAX_PTRS), rejects names over 255 wire octets and the
 * extended label types. Writes the presentation form with trailing dot to
 * out (DNS_NAME_MAX), or only checks the name when out is NULL (probes);
 * *next is the offset after the name where it was read. Returns false if
 * the name is malformed. */
static bool dns_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t *next)
{
	size_t o = 0, end = 0;
	int ptrs = 0, budget = 255;
	for (;;) {
		if (off >= len)
			return false;
		uint8_t c = msg[off++];
		if ((c & 0xC0) == 0) {
			if (c == 0)
				break;
			if (off + c > len)
				return false;
			budget -= c + 1;
			if (budget <= 0)
				return false;
			for (size_t i = 0; out && i < c; i++) {
				uint8_t b = msg[off + i];
				if (b >= ' ' && b <= '~' && !label_special[b]) {
					out[o++] = (char)b;
				} else if (b >= ' ' && b <= '~') {
					out[o++] = '\\';
					out[o++] = (char)b;
				} else {
					out[o++] = '\\';
					out[o++] = (char)('0' + b / 100);
					out[o++] = (char)('0' + b / 10 % 10);
					out[o++] = (char)('0' + b % 10);
				}
			}
			if (out)
				out[o++] = '.';
			off += c;
		} else if ((c & 0xC0) == 0xC0) {
			if (off >= len)
				return false;
			uint8_t c1 = msg[off++];
			if (ptrs == 0)
				end = off;
			if (++ptrs > DNS_MAX_PTRS)
				return false;
			off = (size_t)(c & 0x3F) << 8 | c1;
		} else {
			return false;   /* 0x40 / 0x80 label types */
		}
	}
	if (ptrs == 0)
		end = off;
	if (out) {
		if (o == 0)
			out[o++] = '.';
		out[o] = '\0';
	}
	*next = end;
	return true;
}

static void ascii_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* gopacket layers.DNSType.String(), which Hubble prints. */
static const char *dns_type_name(uint16_t t)
{
	switch (t) {
	case 1: return "A";
	case 2: return "NS";
	case 3: return "MD";
	case 4: return "MF";
	case 5: return "CNAME";
	case 6: return "SOA";
	case 7: return "MB";
	case 8: return "MG";
	case 9: return "MR";
	case 10: return "NULL";
	case 11: return "WKS";
	case 12: return "PTR";
	case 13: return "HINFO";
	case 14: return "MINFO";
	case 15: return "MX";
	case 16: return "TXT";
	case 28: return "AAAA";
	case 33: return "SRV";
	case 35: return "NAPTR";
	case 41: return "OPT";
	case 46: return "RRSIG";
	case 48: return "DNSKEY";
	case 64: return "SVCB";
	case 65: return "HTTPS";
	case 256: return "URI";
	default: return "Unknown";
	}
}

/* a.b.c.d, as Go prints it */
static void fmt_ipv4(const uint8_t a[4], char out[16])
{
	char *o = out;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '\0';
	}
}

/* Go's netip.Addr.String() of an address from an AAAA record (Cilium
 * unmaps IPv4-mapped ones first): RFC 5952, no embedded dotted quad. */
static void fmt_ipv6(const uint8_t a[16], char *out, size_t size)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(a, mapped, 12) == 0 && size >= 16) {
		fmt_ipv4(a + 12, out);
		return;
	}
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	for (int i = 0; i < 8 && o < size; i++) {
		if (i == best) {
			o += (size_t)snprintf(out + o, size - o, "::");
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			o += (size_t)snprintf(out + o, size - o, ":");
		o += (size_t)snprintf(out + o, size - o, "%x", g[i]);
	}
	if (o == 0)
		snprintf(out, size, "::");
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* --- query <-> response matching ------------------------------------------ */

static void pending_remove(struct dns_state *st, size_t i)
{
	memmove(&st->pending[i], &st->pending[i + 1], (st->n_pending - i - 1) * sizeof(st->pending[0]));
	st->n_pending--;
}

static void pending_add(struct dns_state *st, struct l7_ctx *ctx, uint16_t id, enum l7_dir dir,
                        uint32_t qhash, uint64_t ts)
{
	for (size_t i = 0; i < st->n_pending; i++) {
		struct dns_pending *p = &st->pending[i];
		if (!p->answered && p->id == id && p->dir == dir && p->qhash == qhash) {
			/* a retransmitted query: latency counts from the first one */
			l7_count(ctx, "dns.query_retransmitted", 1);
			return;
		}
	}
	if (st->n_pending == st->cap_pending && st->cap_pending < st->max_pending) {
		/* a conversation rarely has more than a query or two in flight */
		size_t cap = st->cap_pending ? st->cap_pending * 2 : 2;
		if (cap > st->max_pending)
			cap = st->max_pending;
		struct dns_pending *np = realloc(st->pending, cap * sizeof(*np));
		if (np) {
			st->pending = np;
			st->cap_pending = cap;
		} else {
			l7_count(ctx, "dns.oom", 1);
		}
	}
	if (st->n_pending == st->cap_pending) {
		if (!st->n_pending)
			return;   /* no memory for even one */
		size_t victim = 0;
		for (size_t i = 0; i < st->n_pending; i++) {
			if (st->pending[i].answered) {
				victim = i;
				break;
			}
		}
		if (!st->pending[victim].answered)
			l7_count(ctx, "dns.pending_overflow", 1);
		pending_remove(st, victim);
	}
	st->pending[st->n_pending++] = (struct dns_pending){ id, (uint8_t)dir, false, qhash, ts };
}

/* Latency of a response, 0 if it answers no query seen. */
static uint64_t pending_match(struct dns_state *st, struct l7_ctx *ctx, uint16_t id, enum l7_dir dir,
                              bool has_question, uint32_t qhash, uint64_t ts)
{
	struct dns_pending *dup = NULL;
	for (size_t i = 0; i < st->n_pending; i++) {
		struct dns_pending *p = &st->pending[i];
		if (p->id != id || p->dir == dir || (has_question && p->qhash != qhash))
			continue;
		if (!p->answered) {
			p->answered = true;
			return ts > p->ts_ns ? ts - p->ts_ns : 0;
		}
		if (!dup)
			dup = p;
	}
	if (dup) {
		l7_count(ctx, "dns.response_duplicate", 1);
		return ts > dup->ts_ns ? ts - dup->ts_ns : 0;
	}
	l7_count(ctx, "dns.response_unmatched", 1);
	return 0;
}

/* --- one message -------------------------------------------------------------- */

struct strlist {
	const char **v;
	size_t n, cap;
};

/* Appends s; lit: s is a string literal, kept as is (no copy). */
static bool sl_push(struct flow_event *ev, struct strlist *l, const char *s, bool lit)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **v = fe_alloc(ev, cap * sizeof(*v));
		if (!v)
			return false;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
		l->cap = cap;
	}
	const char *c = lit ? s : fe_strdup(ev, s);
	if (!c)
		return false;
	l->v[l->n++] = c;
	return true;
}

static bool sl_add(struct flow_event *ev, struct strlist *l, const char *s)
{
	return sl_push(ev, l, s, false);
}

/* dns_type_name() strings are literals */
static bool sl_add_type(struct flow_event *ev, struct strlist *l, const char *s)
{
	return sl_push(ev, l, s, true);
}

/* Skips one resource record at *off; fills its header fields. */
static bool dns_rr(const uint8_t *m, size_t len, size_t *off, char *owner, uint16_t *type,
                   uint32_t *ttl, size_t *rdata, uint16_t *rdlen)
{
	size_t o;
	if (!dns_name(m, len, *off, owner, &o) || o + 10 > len)
		return false;
	*type = rd16(m + o);
	*ttl = rd32(m + o + 4);
	*rdlen = rd16(m + o + 8);
	*rdata = o + 10;
	if (*rdata + *rdlen > len)
		return false;
	*off = *rdata + *rdlen;
	return true;
}

static void dns_message(struct dns_state *st, struct l7_ctx *ctx, enum l7_dir dir,
                        const uint8_t *m, size_t len, uint64_t ts)
{
	if (len < DNS_HDR_LEN) {
		l7_count(ctx, "dns.malformed", 1);
		return;
	}
	uint16_t id = rd16(m), flags = rd16(m + 2);
	uint16_t qd = rd16(m + 4), an = rd16(m + 6), ns = rd16(m + 8), ar = rd16(m + 10);
	bool qr = flags & 0x8000;
	uint32_t rcode = flags & 0xF;

	struct flow_event *ev = l7_event_new(ctx, dir, ts);
	if (!ev)
		return;
	ev->l7.kind = FE_L7K_DNS;
	ev->l7.type = qr ? FE_L7_RESPONSE : FE_L7_REQUEST;
	ev->is_reply = qr;
	ev->reply = qr;
	struct fe_dns *d = &ev->l7.dns;

	char name[DNS_NAME_MAX], owner[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN;
	struct strlist qtypes = { 0 };
	uint32_t qhash = 0;
	bool oom = false, malformed = false;
	for (uint16_t i = 0; i < qd; i++) {
		size_t o;
		if (!dns_name(m, len, off, name, &o) || o + 4 > len) {
			malformed = true;
			break;
		}
		uint16_t qtype = rd16(m + o);
		off = o + 4;
		if (i == 0) {
			ascii_lower(name);
			d->query = fe_strdup(ev, name);
			qhash = fnv1a(fnv1a(2166136261u, name, strlen(name)), m + o, 2);
			oom |= !d->query;
		}
		if (i < DNS_MAX_QTYPES)
			oom |= !sl_add_type(ev, &qtypes, dns_type_name(qtype));
	}
	if (malformed && !d->query) {
		/* not even a question: nothing worth a flow */
		l7_count(ctx, "dns.malformed", 1);
		flow_event_free(ev);
		return;
	}
	d->qtypes = qtypes.v;
	d->n_qtypes = qtypes.n;

	if (!qr) {
		pending_add(st, ctx, id, dir, qhash, ts);
		if (malformed)
			l7_count(ctx, "dns.malformed", 1);
		if (oom)
			l7_count(ctx, "dns.oom", 1);
		l7_event_emit(ctx, ev);
		return;
	}

	/* Response: walk the answers along the CNAME chain from the query. */
	char chain[DNS_MAX_CHAIN][DNS_NAME_MAX];
	size_t n_chain = 0;
	if (d->query) {
		memcpy(chain[0], d->query, strlen(d->query) + 1);
		n_chain = 1;
	}
	struct strlist ips = { 0 }, cnames = { 0 }, rrtypes = { 0 };
	uint32_t min_ttl = UINT32_MAX;
	bool mismatch = false;
	for (uint16_t i = 0; i < an && !malformed; i++) {
		uint16_t type, rdlen;
		uint32_t ttl;
		size_t rdata;
		if (!dns_rr(m, len, &off, owner, &type, &ttl, &rdata, &rdlen)) {
			malformed = true;
			break;
		}
		if (i >= DNS_MAX_ANSWERS)
			continue;
		oom |= !sl_add_type(ev, &rrtypes, dns_type_name(type));
		ascii_lower(owner);
		if (n_chain == 0) {
			/* no question (mDNS announcements): the first owner names it */
			d->query = fe_strdup(ev, owner);
			memcpy(chain[0], owner, strlen(owner) + 1);
			n_chain = 1;
		}
		bool on_chain = false;
		for (size_t c = 0; c < n_chain && !on_chain; c++)
			on_chain = strcmp(chain[c], owner) == 0;
		if (type != 1 && type != 28 && type != 5)
			continue;
		if (!on_chain) {
			mismatch = true;
			continue;
		}
		char ip[64];
		if (type == 1 && rdlen == 4) {
			fmt_ipv4(m + rdata, ip);
			oom |= !sl_add(ev, &ips, ip);
		} else if (type == 28 && rdlen == 16) {
			fmt_ipv6(m + rdata, ip, sizeof(ip));
			oom |= !sl_add(ev, &ips, ip);
		} else if (type == 5) {
			size_t o;
			if (!dns_name(m, rdata + rdlen, rdata, name, &o)) {
				malformed = true;
				break;
			}
			oom |= !sl_add(ev, &cnames, name);
			ascii_lower(name);
			if (n_chain < DNS_MAX_CHAIN)
				memcpy(chain[n_chain++], name, strlen(name) + 1);
		} else {
			malformed = true;   /* A/AAAA with a wrong length */
			continue;
		}
		if (ttl < min_ttl)
			min_ttl = ttl;
	}
	/* EDNS: the OPT record in the additional section extends the rcode */
	for (uint32_t i = 0; !malformed && i < (uint32_t)ns + ar; i++) {
		uint16_t type, rdlen;
		uint32_t ttl;
		size_t rdata;
		if (!dns_rr(m, len, &off, owner, &type, &ttl, &rdata, &rdlen)) {
			malformed = true;
			break;
		}
		if (type == 41 && i >= ns)
			rcode |= (ttl >> 24) << 4;
	}
	if (flags & 0x0200)
		l7_count(ctx, "dns.truncated_response", 1);
	if (mismatch)
		l7_count(ctx, "dns.answer_off_chain", 1);
	if (malformed)
		l7_count(ctx, "dns.malformed", 1);
	if (oom)
		l7_count(ctx, "dns.oom", 1);

	d->ips = ips.v;
	d->n_ips = ips.n;
	d->cnames = cnames.v;
	d->n_cnames = cnames.n;
	d->rrtypes = rrtypes.v;
	d->n_rrtypes = rrtypes.n;
	d->ttl = min_ttl;
	d->rcode = rcode;
	ev->l7.latency_ns = pending_match(st, ctx, id, dir, qd > 0, qhash, ts);

	/* The IP -> name cache learns the name the client asked for (Cilium's
	 * DNS history does the same), not the CNAME targets. */
	if (rcode == 0 && d->query && strcmp(d->query, ".") != 0) {
		size_t qn = strlen(d->query);
		char bare[DNS_NAME_MAX];
		memcpy(bare, d->query, qn - 1);
		bare[qn - 1] = '\0';
		for (size_t i = 0; i < ips.n; i++)
			l7_dns_cache_add(ctx, ips.v[i], bare, min_ttl, ts);
	}
	l7_event_emit(ctx, ev);
}

/* --- probe ----------------------------------------------------------------------- */

static bool port_hint(const struct l7_conn_info *ci, uint16_t port)
{
	return ci && (ci->server_port == port || ci->client_port == port);
}

/* Confidence that m[0..len) starts a DNS message (UDP payload, or TCP
 * after the length prefix; msg_len: the declared length or len). */
static int dns_shape(const uint8_t *m, size_t len, size_t msg_len, bool mdns)
{
	if (len < DNS_HDR_LEN || msg_len < DNS_HDR_LEN)
		return 0;
	uint16_t flags = rd16(m + 2);
	uint16_t qd = rd16(m + 4), an = rd16(m + 6), ns = rd16(m + 8), ar = rd16(m + 10);
	unsigned opcode = (flags >> 11) & 0xF;
	bool qr = flags & 0x8000;
	int score = 50;
	/* unassigned opcodes happen (Suricata's dns-invalid-opcode): DNS
	 * only with the port's word for it */
	if (opcode == 3 || opcode > 6)
		score -= 30;
	if (qd == 0 && !(mdns && qr && an > 0))
		return 0;
	if (qd > 8 && !mdns)
		return 0;
	if (qd > 1 && !mdns)
		score -= 10;
	/* every question takes >= 5 bytes, every record >= 11 */
	if ((size_t)qd * 5 + ((size_t)an + ns + ar) * 11 > msg_len - DNS_HDR_LEN)
		return 0;
	if (!qr && opcode == 0 && !mdns && (an > 0 || ns > 0))
		return 0;
	if (qd > 0) {
		size_t o;
		/* NetBIOS name service speaks DNS's format with one 32-letter
		 * label of 'A'..'P' (RFC 1002 first-level encoding): not DNS */
		if (len >= DNS_HDR_LEN + 33 && m[DNS_HDR_LEN] == 32) {
			size_t k = 0;
			while (k < 32 && m[DNS_HDR_LEN + 1 + k] >= 'A' && m[DNS_HDR_LEN + 1 + k] <= 'P')
				k++;
			if (k == 32)
				return 0;
		}
		if (!dns_name(m, len, DNS_HDR_LEN, NULL, &o)) {
			/* the question may simply not be in the bytes we have */
			return len >= msg_len ? 0 : 30;
		}
		if (o + 4 > len)
			return len >= msg_len ? 0 : 40;
		uint16_t qclass = rd16(m + o + 2) & 0x7FFF;   /* mDNS: top bit = unicast response */
		if (qclass == 1 || qclass == 3 || qclass == 4 || qclass == 254 || qclass == 255)
			score += 20;
		else if (opcode == 0)
			return 0;
	}
	return score;
}

static int dns_probe(const uint8_t *data, size_t len, enum l7_dir dir, const struct l7_conn_info *ci)
{
	(void)dir;
	if (port_hint(ci, 137) || port_hint(ci, 138))
		return 0;   /* NetBIOS */
	bool mdns = port_hint(ci, 5353) || port_hint(ci, 5355);
	bool hint = port_hint(ci, 53) || mdns;
	int score;
	if (ci && ci->transport == L7_TCP) {
		if (len < 2)
			return 0;
		size_t msg_len = rd16(data);
		size_t have = len - 2 < msg_len ? len - 2 : msg_len;
		score = dns_shape(data + 2, have, msg_len, false);
	} else {
		score = dns_shape(data, len, len, mdns);
	}
	if (score && hint)
		score += 25;
	return score > 100 ? 100 : score;
}

/* --- TCP framing ------------------------------------------------------------------- */

/* After a gap broke the framing: a length prefix and a header that look
 * like DNS. Returns the offset of the prefix in p, or -1. */
static long tcp_find_message(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 2 + DNS_HDR_LEN <= n; i++) {
		size_t msg_len = rd16(p + i);
		size_t have = n - i - 2 < msg_len ? n - i - 2 : msg_len;
		if (dns_shape(p + i + 2, have, msg_len, false) >= 50)
			return (long)i;
	}
	return -1;
}

static void tcp_feed(struct dns_state *st, struct l7_ctx *ctx, enum l7_dir dir,
                     const uint8_t *p, size_t n, uint64_t ts);

static void tcp_resync(struct dns_state *st, struct l7_ctx *ctx, enum l7_dir dir,
                       const uint8_t *p, size_t n, uint64_t ts)
{
	struct dns_tcp_dir *t = &st->tcp[dir];
	while (n > 0) {
		size_t take = sizeof(t->scan) - t->scan_len;
		if (take > n)
			take = n;
		memcpy(t->scan + t->scan_len, p, take);
		t->scan_len += take;
		p += take;
		n -= take;
		long at = tcp_find_message(t->scan, t->scan_len);
		if (at >= 0) {
			t->desync = false;
			l7_count(ctx, "dns.tcp_resync", 1);
			uint8_t copy[DNS_TCP_RESYNC_BUF];
			size_t cn = t->scan_len - (size_t)at;
			memcpy(copy, t->scan + at, cn);
			t->scan_len = 0;
			tcp_feed(st, ctx, dir, copy, cn, ts);
			if (!t->desync)
				tcp_feed(st, ctx, dir, p, n, ts);
			else
				tcp_resync(st, ctx, dir, p, n, ts);
			return;
		}
		/* keep the tail that may start a message */
		size_t keep = 2 + DNS_HDR_LEN - 1;
		if (t->scan_len > keep) {
			memmove(t->scan, t->scan + t->scan_len - keep, keep);
			t->scan_len = keep;
		}
	}
}

static void tcp_feed(struct dns_state *st, struct l7_ctx *ctx, enum l7_dir dir,
                     const uint8_t *p, size_t n, uint64_t ts)
{
	struct dns_tcp_dir *t = &st->tcp[dir];
	while (n > 0) {
		if (t->desync) {
			tcp_resync(st, ctx, dir, p, n, ts);
			return;
		}
		if (t->skip) {
			size_t k = t->skip < n ? (size_t)t->skip : n;
			t->skip -= k;
			p += k;
			n -= k;
			continue;
		}
		if (t->lenhave < 2) {
			t->lenbuf[t->lenhave++] = *p++;
			n--;
			if (t->lenhave == 2) {
				t->need = rd16(t->lenbuf);
				t->have = 0;
				if (t->need == 0) {
					l7_count(ctx, "dns.malformed", 1);
					t->lenhave = 0;
				}
			}
			continue;
		}
		if (t->have == 0 && n >= t->need) {
			/* whole message in this segment: no copy */
			dns_message(st, ctx, dir, p, t->need, ts);
			p += t->need;
			n -= t->need;
			t->lenhave = 0;
			continue;
		}
		if (!t->msg) {
			t->msg = malloc(65535);
			if (!t->msg) {
				l7_count(ctx, "dns.oom", 1);
				t->skip = t->need - t->have;
				t->lenhave = 0;
				continue;
			}
		}
		size_t k = t->need - t->have < n ? t->need - t->have : n;
		memcpy(t->msg + t->have, p, k);
		t->have += k;
		p += k;
		n -= k;
		if (t->have == t->need) {
			dns_message(st, ctx, dir, t->msg, t->need, ts);
			t->lenhave = 0;
			t->have = 0;
		}
	}
}

/* --- parser ops ---------------------------------------------------------------------- */

static void *dns_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	struct dns_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->transport = ci ? ci->transport : L7_UDP;
	st->max_pending = cfg && cfg->max_pending ? cfg->max_pending : 64;
	if (st->transport == L7_TCP) {
		st->tcp = calloc(2, sizeof(*st->tcp));
		if (!st->tcp) {
			free(st);
			return NULL;
		}
		/* joined mid-stream: the first bytes need not start a message */
		if (ci && ci->midstream)
			st->tcp[0].desync = st->tcp[1].desync = true;
	}
	return st;
}

static void dns_destroy(void *state)
{
	struct dns_state *st = state;
	if (!st)
		return;
	if (st->tcp) {
		free(st->tcp[0].msg);
		free(st->tcp[1].msg);
		free(st->tcp);
	}
	free(st->pending);
	free(st);
}

static void dns_data(void *state, struct l7_ctx *ctx, enum l7_dir dir,
                     const uint8_t *p, size_t n, uint64_t ts_ns)
{
	struct dns_state *st = state;
	if (st->transport == L7_UDP)
		dns_message(st, ctx, dir, p, n, ts_ns);
	else
		tcp_feed(st, ctx, dir, p, n, ts_ns);
}

static void dns_gap(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len, uint64_t ts_ns)
{
	(void)ts_ns;
	struct dns_state *st = state;
	if (st->transport != L7_TCP || len == 0)
		return;
	struct dns_tcp_dir *t = &st->tcp[dir];
	if (t->desync) {
		t->scan_len = 0;
		return;
	}
	if (t->skip) {
		/* already dropping a broken message */
		if (len <= t->skip) {
			t->skip -= len;
			return;
		}
	} else if (t->lenhave == 2 && len <= t->need - t->have) {
		/* the hole is inside this message: drop it, keep the framing */
		l7_count(ctx, "dns.gap_message_dropped", 1);
		t->skip = t->need - t->have - len;
		t->lenhave = 0;
		t->have = 0;
		return;
	}
	l7_count(ctx, "dns.gap_desync", 1);
	t->skip = 0;
	t->lenhave = 0;
	t->have = 0;
	t->desync = true;
	t->scan_len = 0;
}

static void dns_close(void *state, struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts_ns)
{
	(void)ts_ns;
	struct dns_state *st = state;
	if (st->transport != L7_TCP)
		return;
	struct dns_tcp_dir *t = &st->tcp[dir];
	if (t->lenhave || t->skip)
		l7_count(ctx, "dns.truncated_message", 1);
	t->lenhave = 0;
	t->have = 0;
	t->skip = 0;
}

const struct l7_parser_ops l7_dns_ops = {
	.name = "dns",
	.proto = L7_PROTO_DNS,
	.probe = dns_probe,
	.create = dns_create,
	.destroy = dns_destroy,
	.data = dns_data,
	.gap = dns_gap,
	.close = dns_close,
};
