/* SPDX-License-Identifier: BSD-2-Clause */
/* L3/L4 flow events from directional flow records: see flow_l34.h. */
#include "flow_l34.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132

/* ICMP request/reply pairs: {request type, reply type}. */
static const uint8_t icmp4_pairs[][2] = {
	{ 8, 0 },   /* echo */
	{ 13, 14 }, /* timestamp */
	{ 15, 16 }, /* information */
	{ 17, 18 }, /* address mask */
};
static const uint8_t icmp6_pairs[][2] = {
	{ 128, 129 }, /* echo */
	{ 133, 134 }, /* router solicitation / advertisement */
	{ 135, 136 }, /* neighbor solicitation / advertisement */
	{ 139, 140 }, /* node information query / response */
};
/* ICMPv6 MLD: query (130) is a request, reports (131, 143) reply to it, but
 * are sent to multicast groups, so they have no reverse key. */

/* 0 request, 1 reply, -1 neither; *peer = the other type of the pair, -1
 * when the type has no pair to reverse to. */
static int icmp_role(uint8_t proto, uint8_t type, int *peer)
{
	*peer = -1;
	const uint8_t(*pairs)[2] = proto == PROTO_ICMP ? icmp4_pairs : icmp6_pairs;
	size_t n = proto == PROTO_ICMP ? sizeof(icmp4_pairs) / sizeof(icmp4_pairs[0])
	                               : sizeof(icmp6_pairs) / sizeof(icmp6_pairs[0]);
	for (size_t i = 0; i < n; i++) {
		if (pairs[i][0] == type) {
			*peer = pairs[i][1];
			return 0;
		}
		if (pairs[i][1] == type) {
			*peer = pairs[i][0];
			return 1;
		}
	}
	if (proto == PROTO_ICMPV6 && type == 130) /* MLD query */
		return 0;
	if (proto == PROTO_ICMPV6 && (type == 131 || type == 143))
		return 1;
	return -1;
}

static bool is_icmp(uint8_t proto) { return proto == PROTO_ICMP || proto == PROTO_ICMPV6; }

static bool has_ports(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP;
}

bool flow_key_reverse(const struct flow_key *key, struct flow_key *out)
{
	struct flow_key r = *key;
	memcpy(r.saddr, key->daddr, FLOW_ADDR_LEN);
	memcpy(r.daddr, key->saddr, FLOW_ADDR_LEN);
	if (is_icmp(key->proto)) {
		int peer;
		icmp_role(key->proto, key->dport >> 8, &peer);
		if (peer < 0)
			return false;
		r.sport = key->sport; /* echo identifier: same both ways */
		r.dport = (uint16_t)(peer << 8 | (key->dport & 0xff));
	} else {
		r.sport = key->dport;
		r.dport = key->sport;
	}
	*out = r;
	return true;
}

/* 2 well-known, 1 registered, 0 ephemeral: the higher, the more a port
 * looks like a server's. */
static int port_rank(uint16_t port)
{
	if (port < 1024)
		return 2;
	if (port < 32768)
		return 1;
	return 0;
}

int flow_l34_is_reply(const struct flow_key *key, const struct flow_rec *rec,
                      const struct flow_rec *rev)
{
	if (key->proto == PROTO_TCP) {
		uint16_t f = rec->first_tcp_flags & (FLOW_TCP_SYN | FLOW_TCP_ACK);
		if (f == FLOW_TCP_SYN)
			return 0;
		if (f == (FLOW_TCP_SYN | FLOW_TCP_ACK))
			return 1;
		if (rev && rev->packets) {
			f = rev->first_tcp_flags & (FLOW_TCP_SYN | FLOW_TCP_ACK);
			if (f == FLOW_TCP_SYN)
				return 1;
			if (f == (FLOW_TCP_SYN | FLOW_TCP_ACK))
				return 0;
		}
	}
	if (is_icmp(key->proto)) {
		int peer;
		return icmp_role(key->proto, key->dport >> 8, &peer) == 1;
	}
	if (has_ports(key->proto) && key->sport != key->dport) {
		int rs = port_rank(key->sport), rd = port_rank(key->dport);
		if (rs != rd)
			return rs > rd;
		return key->sport < key->dport;
	}
	if (!rev || !rev->packets)
		return 0;
	if (rec->first_seen_ns != rev->first_seen_ns)
		return rec->first_seen_ns > rev->first_seen_ns;
	return -1;
}

void flow_rec_merge(struct flow_rec *acc, const struct flow_rec *cpu)
{
	if (!cpu->packets)
		return;
	if (!acc->packets || cpu->first_seen_ns < acc->first_seen_ns) {
		acc->first_seen_ns = cpu->first_seen_ns;
		acc->first_tcp_flags = cpu->first_tcp_flags;
		memcpy(acc->eth_src, cpu->eth_src, sizeof(acc->eth_src));
		memcpy(acc->eth_dst, cpu->eth_dst, sizeof(acc->eth_dst));
	}
	if (cpu->last_seen_ns > acc->last_seen_ns)
		acc->last_seen_ns = cpu->last_seen_ns;
	acc->packets += cpu->packets;
	acc->bytes += cpu->bytes;
	acc->tcp_flags |= cpu->tcp_flags;
	if (cpu->policy.gen > acc->policy.gen)  /* the latest policy's decision */
		acc->policy = cpu->policy;
}

int64_t flow_clock_offset_ns(void)
{
	/* Bracket one monotonic read between two realtime reads and keep the
	 * tightest of a few tries: the offset is then good to well under a µs. */
	int64_t best = 0, best_span = -1;
	for (int i = 0; i < 3; i++) {
		struct timespec r1, m, r2;
		clock_gettime(CLOCK_REALTIME, &r1);
		clock_gettime(CLOCK_MONOTONIC, &m);
		clock_gettime(CLOCK_REALTIME, &r2);
		int64_t a = (int64_t)r1.tv_sec * 1000000000 + r1.tv_nsec;
		int64_t b = (int64_t)r2.tv_sec * 1000000000 + r2.tv_nsec;
		int64_t mono = (int64_t)m.tv_sec * 1000000000 + m.tv_nsec;
		if (best_span < 0 || b - a < best_span) {
			best_span = b - a;
			best = a + (b - a) / 2 - mono;
		}
	}
	return best;
}

/* Dotted quad without snprintf: this runs for every L3/L4 event. */
static void ipv4_format(const uint8_t a[4], char *out)
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

void flow_addr_format(uint8_t family, const uint8_t addr[FLOW_ADDR_LEN], char out[46])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == 4) {
		ipv4_format(addr, out);
		return;
	}
	if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0) {
		ipv4_format(addr + 12, out);
		return;
	}
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(addr[2 * i] << 8 | addr[2 * i + 1]);
	/* Longest run of zero groups, first one on ties, only if >= 2 long. */
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		if (g[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	if (best_len < 2)
		best = -1;
	char *p = out;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		p += sprintf(p, "%x", g[i]);
	}
	*p = '\0';
}

void flow_uuid_v4(const uint8_t rnd[16], char out[37])
{
	uint8_t b[16];
	memcpy(b, rnd, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	char *p = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		p += sprintf(p, "%02x", b[i]);
	}
	*p = '\0';
}

static void mac_format(const uint8_t m[6], char out[18])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 6; i++) {
		out[3 * i] = hex[m[i] >> 4];
		out[3 * i + 1] = hex[m[i] & 15];
		out[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

static bool mac_zero(const uint8_t m[6])
{
	static const uint8_t zero[6];
	return memcmp(m, zero, 6) == 0;
}

static uint64_t to_epoch(uint64_t t, int64_t offset)
{
	return t ? (uint64_t)((int64_t)t + offset) : 0;
}

int flow_l34_event(struct flow_event *ev, enum fe_stats_event what,
                   const struct flow_key *key, const struct flow_rec *rec,
                   const struct flow_rec *rev, const struct flow_l34_opts *opts)
{
	static const struct flow_l34_opts no_opts;
	if (!opts)
		opts = &no_opts;
	if (key->family != 4 && key->family != 6)
		return -EINVAL;

	ev->stats.event = what;
	ev->stats.packets = rec->packets;
	ev->stats.bytes = rec->bytes;
	ev->stats.first_seen_ns = to_epoch(rec->first_seen_ns, opts->clock_offset_ns);
	ev->stats.last_seen_ns = to_epoch(rec->last_seen_ns, opts->clock_offset_ns);
	ev->time_ns = what == FE_STATS_START ? ev->stats.first_seen_ns : ev->stats.last_seen_ns;

	if (opts->uuid)
		snprintf(ev->uuid, sizeof(ev->uuid), "%s", opts->uuid);
	ev->verdict = FE_FORWARDED;
	if (!mac_zero(rec->eth_src) || !mac_zero(rec->eth_dst)) {
		ev->has_ethernet = true;
		mac_format(rec->eth_src, ev->eth_src);
		mac_format(rec->eth_dst, ev->eth_dst);
	}
	ev->has_ip = true;
	flow_addr_format(key->family, key->saddr, ev->ip_src);
	flow_addr_format(key->family, key->daddr, ev->ip_dst);
	ev->ip_version = key->family == 4 ? FE_IPV4 : FE_IPV6;

	switch (key->proto) {
	case PROTO_TCP:
		ev->l4 = FE_L4_TCP;
		ev->sport = key->sport;
		ev->dport = key->dport;
		ev->tcp_flags = what == FE_STATS_START ? rec->first_tcp_flags : rec->tcp_flags;
		break;
	case PROTO_UDP:
		ev->l4 = FE_L4_UDP;
		ev->sport = key->sport;
		ev->dport = key->dport;
		break;
	case PROTO_SCTP:
		ev->l4 = FE_L4_SCTP;
		ev->sport = key->sport;
		ev->dport = key->dport;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		/* ICMPv4 in an IPv6 packet (or the reverse) is not ICMP for us. */
		if ((key->proto == PROTO_ICMP) != (key->family == 4))
			break;
		ev->l4 = key->proto == PROTO_ICMP ? FE_L4_ICMPV4 : FE_L4_ICMPV6;
		ev->icmp_type = key->dport >> 8;
		ev->icmp_code = key->dport & 0xff;
		break;
	default:
		break; /* no l4 object, as Hubble for protocols it does not decode */
	}

	ev->type = FE_TYPE_L3_L4;
	if (opts->node_name && !(ev->node_name = fe_strdup(ev, opts->node_name)))
		return -ENOMEM;
	ev->event_type = FLOW_L34_EVENT_TRACE;
	if (key->direction == FLOW_DIR_EGRESS) {
		ev->traffic_direction = FE_EGRESS;
		ev->trace_observation_point = FLOW_L34_TO_NETWORK;
	} else {
		ev->traffic_direction = FE_INGRESS;
		ev->trace_observation_point = FLOW_L34_FROM_NETWORK;
	}
	ev->event_sub_type = ev->trace_observation_point;
	ev->is_reply = (int8_t)flow_l34_is_reply(key, rec, rev);
	ev->reply = ev->is_reply == 1;
	ev->ifindex = key->ifindex;
	if (opts->ifname && !(ev->ifname = fe_strdup(ev, opts->ifname)))
		return -ENOMEM;
	if (fe_set_summary(ev))
		return -ENOMEM;
	return 0;
}
