/* l7/dns.c: messages built byte by byte, fed through the parser harness. */
#include "check.h"
#include "l7_harness.h"
#include "vectors.h"

#include <stdint.h>
#include <stdlib.h>

extern const struct l7_parser_ops l7_dns_ops;

/* --- message builder -------------------------------------------------------- */

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void put8(struct msg *m, unsigned v) { m->b[m->n++] = (uint8_t)v; }
static void put16(struct msg *m, unsigned v) { put8(m, v >> 8); put8(m, v & 0xff); }
static void put32(struct msg *m, uint32_t v) { put16(m, v >> 16); put16(m, v & 0xffff); }
static void putmem(struct msg *m, const void *p, size_t n) { memcpy(m->b + m->n, p, n); m->n += n; }

static void header(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
                   unsigned ns, unsigned ar)
{
	m->n = 0;
	put16(m, id); put16(m, flags); put16(m, qd); put16(m, an); put16(m, ns); put16(m, ar);
}

/* "www.example.com" -> labels; "" -> root */
static void name(struct msg *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		put8(m, (unsigned)l);
		putmem(m, s, l);
		s += l + (dot ? 1 : 0);
	}
	put8(m, 0);
}

static void ptr(struct msg *m, unsigned off) { put16(m, 0xC000 | off); }

static void question(struct msg *m, const char *n, unsigned type)
{
	name(m, n);
	put16(m, type);
	put16(m, 1);
}

static void rr_a(struct msg *m, unsigned owner_ptr, uint32_t ttl, const uint8_t ip[4])
{
	ptr(m, owner_ptr); put16(m, 1); put16(m, 1); put32(m, ttl); put16(m, 4); putmem(m, ip, 4);
}

static void rr_aaaa(struct msg *m, unsigned owner_ptr, uint32_t ttl, const uint8_t ip[16])
{
	ptr(m, owner_ptr); put16(m, 28); put16(m, 1); put32(m, ttl); put16(m, 16); putmem(m, ip, 16);
}

/* --- helpers ---------------------------------------------------------------------- */

static void setup(struct l7_harness *h, enum l7_transport t)
{
	l7h_init(h, &l7_dns_ops, t, "198.18.0.1", 40000, "198.18.0.53", 53);
}

static bool strs_eq(const char *const *got, size_t n, const char *const *want, size_t wn)
{
	if (n != wn)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!got[i] || strcmp(got[i], want[i]) != 0)
			return false;
	return true;
}

#define STRS(...) ((const char *const[]){ __VA_ARGS__ }), (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static const uint8_t ip1[4] = { 93, 184, 216, 34 }, ip2[4] = { 198, 18, 7, 9 };

/* --- tests ---------------------------------------------------------------------------- */

static void test_udp_query_response(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	header(&m, 0x1234, 0x0100, 1, 0, 0, 0);
	question(&m, "WWW.Example.COM", 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 1000000000);

	/* answer: CNAME www.example.com -> edge.example.net, then two A for it, one AAAA */
	header(&m, 0x1234, 0x8180, 1, 4, 0, 0);
	question(&m, "www.example.com", 1);
	ptr(&m, 12); put16(&m, 5); put16(&m, 1); put32(&m, 300);
	size_t rdlen_at = m.n;
	put16(&m, 0);
	size_t target = m.n;
	name(&m, "Edge.example.net");
	m.b[rdlen_at + 1] = (uint8_t)(m.n - target);
	rr_a(&m, (unsigned)target, 60, ip1);
	rr_a(&m, (unsigned)target, 120, ip2);
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	rr_aaaa(&m, (unsigned)target, 30, v6);
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n, 1004500000);

	CHECK_U64("udp: two events", h.n_events, 2);
	if (h.n_events == 2) {
		struct flow_event *q = h.events[0], *r = h.events[1];
		CHECK("udp query: kind dns request", q->l7.kind == FE_L7K_DNS && q->l7.type == FE_L7_REQUEST);
		CHECK_STR("udp query: query lower-cased with dot", q->l7.dns.query, "www.example.com.");
		CHECK("udp query: qtypes A", strs_eq(q->l7.dns.qtypes, q->l7.dns.n_qtypes, STRS("A")));
		CHECK("udp query: no latency, no ips", q->l7.latency_ns == 0 && q->l7.dns.n_ips == 0);
		CHECK("udp query: is_reply false", q->is_reply == 0);
		CHECK("udp response: type", r->l7.type == FE_L7_RESPONSE && r->is_reply == 1 && r->reply);
		CHECK_STR("udp response: query", r->l7.dns.query, "www.example.com.");
		CHECK("udp response: ips in order",
		      strs_eq(r->l7.dns.ips, r->l7.dns.n_ips, STRS("93.184.216.34", "198.18.7.9", "2001:db8::1")));
		CHECK("udp response: cnames as sent",
		      strs_eq(r->l7.dns.cnames, r->l7.dns.n_cnames, STRS("Edge.example.net.")));
		CHECK("udp response: rrtypes",
		      strs_eq(r->l7.dns.rrtypes, r->l7.dns.n_rrtypes, STRS("CNAME", "A", "A", "AAAA")));
		CHECK_U64("udp response: min ttl", r->l7.dns.ttl, 30);
		CHECK_U64("udp response: rcode", r->l7.dns.rcode, 0);
		CHECK_U64("udp response: latency", r->l7.latency_ns, 4500000);
		CHECK_STR("udp response: src is server", r->ip_src, "198.18.0.53");
	}
	CHECK_U64("udp: cache adds", h.n_dns_cache_adds, 3);
	CHECK_STR("udp: cache ip", h.dns_cache[2].ip, "2001:db8::1");
	CHECK_STR("udp: cache name is the query", h.dns_cache[0].name, "www.example.com");
	CHECK_U64("udp: cache ttl is the minimum", h.dns_cache[1].ttl, 30);
	CHECK_U64("udp: nothing unmatched", l7h_counter(&h, "dns.response_unmatched"), 0);
	l7h_free(&h);
}

static void test_nxdomain_and_no_answer(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	header(&m, 7, 0x0100, 1, 0, 0, 0);
	question(&m, "nope.example", 28);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 10);
	/* NXDOMAIN with an SOA in authority */
	header(&m, 7, 0x8183, 1, 0, 1, 0);
	question(&m, "nope.example", 28);
	ptr(&m, 17); put16(&m, 6); put16(&m, 1); put32(&m, 900); put16(&m, 22);
	name(&m, "ns.example"); putmem(&m, "\0\0\0\1\0\0\0\2", 8); /* 12+8 = 20... pad */
	putmem(&m, "\0\0", 2);
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n, 20);
	CHECK_U64("nxdomain: events", h.n_events, 2);
	if (h.n_events == 2) {
		const struct fe_dns *d = &h.events[1]->l7.dns;
		CHECK_U64("nxdomain: rcode 3", d->rcode, 3);
		CHECK_U64("nxdomain: ttl max (no A/AAAA/CNAME)", d->ttl, 4294967295u);
		CHECK("nxdomain: no ips, no rrtypes", d->n_ips == 0 && d->n_rrtypes == 0);
		CHECK("nxdomain: qtypes AAAA", strs_eq(d->qtypes, d->n_qtypes, STRS("AAAA")));
		CHECK_U64("nxdomain: latency", h.events[1]->l7.latency_ns, 10);
	}
	CHECK_U64("nxdomain: no cache adds", h.n_dns_cache_adds, 0);
	l7h_free(&h);
}

static void test_matching(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg q1, q2, r;
	header(&q1, 100, 0x0100, 1, 0, 0, 0);
	question(&q1, "a.example", 1);
	header(&q2, 101, 0x0100, 1, 0, 0, 0);
	question(&q2, "b.example", 28);
	l7h_feed(&h, L7_DIR_TO_SERVER, q1.b, q1.n, 1000);
	l7h_feed(&h, L7_DIR_TO_SERVER, q2.b, q2.n, 2000);
	/* answers out of order */
	header(&r, 101, 0x8180, 1, 0, 0, 0);
	question(&r, "b.example", 28);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 2500);
	header(&r, 100, 0x8180, 1, 1, 0, 0);
	question(&r, "a.example", 1);
	rr_a(&r, 12, 5, ip1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 4000);
	/* the same answer again: a duplicate, still reported */
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 4100);
	/* an answer to nothing */
	header(&r, 555, 0x8180, 1, 0, 0, 0);
	question(&r, "c.example", 1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 5000);
	/* same id, other question: not a match */
	header(&r, 101, 0x8180, 1, 0, 0, 0);
	question(&r, "z.example", 28);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 5100);

	CHECK_U64("match: events", h.n_events, 7);
	if (h.n_events == 7) {
		CHECK_U64("match: out-of-order latency b", h.events[2]->l7.latency_ns, 500);
		CHECK_U64("match: out-of-order latency a", h.events[3]->l7.latency_ns, 3000);
		CHECK_U64("match: duplicate latency from the query", h.events[4]->l7.latency_ns, 3100);
		CHECK_U64("match: unsolicited latency 0", h.events[5]->l7.latency_ns, 0);
		CHECK_U64("match: other question latency 0", h.events[6]->l7.latency_ns, 0);
		CHECK("match: duplicate still has ips", h.events[4]->l7.dns.n_ips == 1);
	}
	CHECK_U64("match: duplicate counted", l7h_counter(&h, "dns.response_duplicate"), 1);
	CHECK_U64("match: unmatched counted", l7h_counter(&h, "dns.response_unmatched"), 2);
	l7h_free(&h);

	/* retransmitted query: latency from the first send */
	setup(&h, L7_UDP);
	l7h_feed(&h, L7_DIR_TO_SERVER, q1.b, q1.n, 1000);
	l7h_feed(&h, L7_DIR_TO_SERVER, q1.b, q1.n, 6000);
	header(&r, 100, 0x8180, 1, 0, 0, 0);
	question(&r, "a.example", 1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 7000);
	CHECK_U64("retransmit: three events", h.n_events, 3);
	if (h.n_events == 3)
		CHECK_U64("retransmit: latency from first query", h.events[2]->l7.latency_ns, 6000);
	CHECK_U64("retransmit: counted", l7h_counter(&h, "dns.query_retransmitted"), 1);
	l7h_free(&h);

	/* pending bound: max_pending 2, third query evicts the oldest */
	setup(&h, L7_UDP);
	h.ops->destroy(h.state);
	h.cfg.max_pending = 2;
	h.state = h.ops->create(&h.ci, &h.cfg);
	for (unsigned id = 1; id <= 3; id++) {
		header(&q1, id, 0x0100, 1, 0, 0, 0);
		question(&q1, "a.example", 1);
		l7h_feed(&h, L7_DIR_TO_SERVER, q1.b, q1.n, id * 100);
	}
	header(&r, 1, 0x8180, 1, 0, 0, 0);
	question(&r, "a.example", 1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 1000);
	header(&r, 3, 0x8180, 1, 0, 0, 0);
	question(&r, "a.example", 1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 1000);
	CHECK_U64("pending bound: overflow counted", l7h_counter(&h, "dns.pending_overflow"), 1);
	if (h.n_events == 5) {
		CHECK_U64("pending bound: evicted query unmatched", h.events[3]->l7.latency_ns, 0);
		CHECK_U64("pending bound: kept query matched", h.events[4]->l7.latency_ns, 700);
	}
	l7h_free(&h);
}

static void test_reversed_direction(void)
{
	/* The pipeline took the responder for the client (it spoke first): the
	 * QR bit still decides request/response; addresses follow the sender. */
	struct l7_harness h;
	l7h_init(&h, &l7_dns_ops, L7_UDP, "198.18.0.53", 53, "198.18.0.1", 40000);
	struct msg m;
	header(&m, 9, 0x8180, 1, 1, 0, 0);
	question(&m, "x.example", 1);
	rr_a(&m, 12, 5, ip1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 100);
	CHECK_U64("reversed: one event", h.n_events, 1);
	if (h.n_events == 1) {
		struct flow_event *e = h.events[0];
		CHECK("reversed: response by QR", e->l7.type == FE_L7_RESPONSE && e->is_reply == 1);
		CHECK_STR("reversed: source is the responder", e->ip_src, "198.18.0.53");
		CHECK_U64("reversed: source port 53", e->sport, 53);
	}
	l7h_free(&h);
}

static void test_names(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	/* odd label bytes, printed like miekg/dns */
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	put8(&m, 5); putmem(&m, "a.b c", 5);
	put8(&m, 3); putmem(&m, "\x01\xff\\", 3);
	put8(&m, 0); put16(&m, 99); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 1);
	/* root query, unknown type */
	header(&m, 2, 0x0100, 1, 0, 0, 0);
	put8(&m, 0); put16(&m, 2); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 2);
	/* compression loop: question name points to itself */
	header(&m, 3, 0x0100, 1, 0, 0, 0);
	ptr(&m, 12); put16(&m, 1); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 3);
	/* two-pointer loop */
	header(&m, 4, 0x0100, 1, 0, 0, 0);
	ptr(&m, 14); ptr(&m, 12); put16(&m, 1); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 4);
	/* forward pointer (allowed, like miekg/dns) */
	header(&m, 5, 0x0100, 1, 0, 0, 0);
	ptr(&m, 18); put16(&m, 1); put16(&m, 1);
	name(&m, "fwd.example");
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 5);
	/* name longer than 255 octets */
	header(&m, 6, 0x0100, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		put8(&m, 63);
		for (int j = 0; j < 63; j++)
			put8(&m, 'x');
	}
	put8(&m, 0); put16(&m, 1); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 6);
	/* pointer out of the message */
	header(&m, 7, 0x0100, 1, 0, 0, 0);
	ptr(&m, 300); put16(&m, 1); put16(&m, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 7);
	/* short message */
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, 11, 8);

	CHECK_U64("names: events (3 valid of 8)", h.n_events, 3);
	if (h.n_events == 3) {
		CHECK_STR("names: escapes", h.events[0]->l7.dns.query, "a\\.b\\ c.\\001\\255\\\\.");
		CHECK("names: unknown qtype", strs_eq(h.events[0]->l7.dns.qtypes, h.events[0]->l7.dns.n_qtypes, STRS("Unknown")));
		CHECK_STR("names: root", h.events[1]->l7.dns.query, ".");
		CHECK("names: NS", strs_eq(h.events[1]->l7.dns.qtypes, h.events[1]->l7.dns.n_qtypes, STRS("NS")));
		CHECK_STR("names: forward pointer", h.events[2]->l7.dns.query, "fwd.example.");
	}
	CHECK_U64("names: malformed counted", l7h_counter(&h, "dns.malformed"), 5);
	l7h_free(&h);
}

static void test_edns_rcode_and_multi_question(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	/* BADVERS (16): header rcode 0, OPT extended rcode 1 */
	header(&m, 1, 0x8180, 1, 0, 0, 1);
	question(&m, "e.example", 1);
	put8(&m, 0); put16(&m, 41); put16(&m, 4096); put32(&m, 0x01000000); put16(&m, 0);
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n, 1);
	/* two questions */
	header(&m, 2, 0x0100, 2, 0, 0, 0);
	question(&m, "m.example", 1);
	question(&m, "m.example", 28);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 2);
	CHECK_U64("edns: events", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_U64("edns: extended rcode", h.events[0]->l7.dns.rcode, 16);
		CHECK("multi: qtypes", strs_eq(h.events[1]->l7.dns.qtypes, h.events[1]->l7.dns.n_qtypes, STRS("A", "AAAA")));
	}
	l7h_free(&h);
}

static void test_off_chain_and_tc(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	/* TC set; an A for another name (not on the chain): not an IP of the query */
	header(&m, 1, 0x8380, 1, 2, 0, 0);
	question(&m, "t.example", 1);
	rr_a(&m, 12, 50, ip1);
	size_t other = m.n;
	name(&m, "other.example"); put16(&m, 1); put16(&m, 1); put32(&m, 5); put16(&m, 4); putmem(&m, ip2, 4);
	(void)other;
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n, 1);
	CHECK_U64("tc: reported", h.n_events, 1);
	if (h.n_events == 1) {
		const struct fe_dns *d = &h.events[0]->l7.dns;
		CHECK("off-chain: only chain ips", strs_eq(d->ips, d->n_ips, STRS("93.184.216.34")));
		CHECK("off-chain: rrtypes list all", strs_eq(d->rrtypes, d->n_rrtypes, STRS("A", "A")));
		CHECK_U64("off-chain: ttl of chain records only", d->ttl, 50);
	}
	CHECK_U64("tc: counted", l7h_counter(&h, "dns.truncated_response"), 1);
	CHECK_U64("off-chain: counted", l7h_counter(&h, "dns.answer_off_chain"), 1);
	CHECK_U64("off-chain: cache only chain ips", h.n_dns_cache_adds, 1);

	/* answers cut short: what was decoded is kept */
	header(&m, 2, 0x8180, 1, 2, 0, 0);
	question(&m, "t.example", 1);
	rr_a(&m, 12, 50, ip1);
	rr_a(&m, 12, 50, ip2);
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n - 3, 2);
	CHECK_U64("cut answers: reported", h.n_events, 2);
	if (h.n_events == 2)
		CHECK("cut answers: first ip kept", strs_eq(h.events[1]->l7.dns.ips, h.events[1]->l7.dns.n_ips, STRS("93.184.216.34")));
	CHECK_U64("cut answers: malformed counted", l7h_counter(&h, "dns.malformed"), 1);
	l7h_free(&h);
}

static void test_ipv6_format(void)
{
	struct l7_harness h;
	setup(&h, L7_UDP);
	struct msg m;
	static const uint8_t v[][16] = {
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },     /* first longest run */
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 },         /* v4-mapped: unmapped */
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1 },     /* single zero group */
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 },                 /* no dotted form */
		{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	};
	header(&m, 1, 0x8180, 1, 6, 0, 0);
	question(&m, "six.example", 28);
	for (int i = 0; i < 6; i++)
		rr_aaaa(&m, 12, 60, v[i]);
	l7h_feed(&h, L7_DIR_TO_CLIENT, m.b, m.n, 1);
	if (h.n_events == 1) {
		const struct fe_dns *d = &h.events[0]->l7.dns;
		CHECK("ipv6 format (Go netip)", strs_eq(d->ips, d->n_ips,
		      STRS("2001:db8:0:1::1", "192.0.2.1", "::", "2001:db8:1:0:1:1:1:1", "::102:304", "fe80::")));
	} else {
		CHECK("ipv6 format: one event", 0);
	}
	l7h_free(&h);
}

static void tcp_msg(struct msg *out, const struct msg *in)
{
	out->n = 0;
	put16(out, (unsigned)in->n);
	putmem(out, in->b, in->n);
}

static void test_tcp(void)
{
	struct l7_harness h;
	setup(&h, L7_TCP);
	struct msg q, r, stream;
	header(&q, 0xbeef, 0x0100, 1, 0, 0, 0);
	question(&q, "tcp.example", 1);
	header(&r, 0xbeef, 0x8180, 1, 1, 0, 0);
	question(&r, "tcp.example", 1);
	rr_a(&r, 12, 77, ip2);

	/* two queries in one segment, the second split byte by byte */
	struct msg a, b;
	tcp_msg(&a, &q);
	header(&q, 0xbef0, 0x0100, 1, 0, 0, 0);
	question(&q, "tcp.example", 28);
	tcp_msg(&b, &q);
	stream.n = 0;
	putmem(&stream, a.b, a.n);
	putmem(&stream, b.b, 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, stream.b, stream.n, 100);
	for (size_t i = 1; i < b.n; i++)
		l7h_feed(&h, L7_DIR_TO_SERVER, b.b + i, 1, 200);
	/* response split in the middle of its length prefix */
	tcp_msg(&a, &r);
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b, 1, 300);
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b + 1, a.n - 1, 400);
	CHECK_U64("tcp: events", h.n_events, 3);
	if (h.n_events == 3) {
		CHECK("tcp: second query AAAA", strs_eq(h.events[1]->l7.dns.qtypes, h.events[1]->l7.dns.n_qtypes, STRS("AAAA")));
		CHECK("tcp: response ips", strs_eq(h.events[2]->l7.dns.ips, h.events[2]->l7.dns.n_ips, STRS("198.18.7.9")));
		CHECK_U64("tcp: latency", h.events[2]->l7.latency_ns, 300);
		CHECK("tcp: l4 TCP", h.events[2]->l4 == FE_L4_TCP);
	}

	/* a gap inside a message drops it, the next one still parses */
	tcp_msg(&a, &r);
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b, 10, 500);
	l7h_gap(&h, L7_DIR_TO_CLIENT, 5, 500);
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b + 15, a.n - 15, 500);
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b, a.n, 600);
	CHECK_U64("tcp gap in message: next one parsed", h.n_events, 4);
	CHECK_U64("tcp gap in message: counted", l7h_counter(&h, "dns.gap_message_dropped"), 1);

	/* a gap across a boundary: resync on the next plausible message */
	l7h_feed(&h, L7_DIR_TO_CLIENT, a.b, 10, 700);
	l7h_gap(&h, L7_DIR_TO_CLIENT, 100, 700);
	stream.n = 0;
	putmem(&stream, "\x13\x37garbage", 9);
	putmem(&stream, a.b, a.n);
	l7h_feed(&h, L7_DIR_TO_CLIENT, stream.b, stream.n, 800);
	CHECK_U64("tcp gap desync: resynced", h.n_events, 5);
	CHECK_U64("tcp gap desync: counted", l7h_counter(&h, "dns.gap_desync"), 1);
	CHECK_U64("tcp gap desync: resync counted", l7h_counter(&h, "dns.tcp_resync"), 1);
	l7h_close(&h, L7_DIR_TO_CLIENT, 900);
	l7h_free(&h);

	/* truncated UDP answer then the TCP retry: both conversations reported */
	setup(&h, L7_UDP);
	header(&q, 0x4242, 0x0100, 1, 0, 0, 0);
	question(&q, "big.example", 1);
	l7h_feed(&h, L7_DIR_TO_SERVER, q.b, q.n, 1);
	header(&r, 0x4242, 0x8380, 1, 0, 0, 0);
	question(&r, "big.example", 1);
	l7h_feed(&h, L7_DIR_TO_CLIENT, r.b, r.n, 2);
	struct l7_harness t;
	setup(&t, L7_TCP);
	tcp_msg(&a, &q);
	l7h_feed(&t, L7_DIR_TO_SERVER, a.b, a.n, 3);
	header(&r, 0x4242, 0x8180, 1, 1, 0, 0);
	question(&r, "big.example", 1);
	rr_a(&r, 12, 9, ip1);
	tcp_msg(&a, &r);
	l7h_feed(&t, L7_DIR_TO_CLIENT, a.b, a.n, 4);
	CHECK("tc+tcp retry: udp pair", h.n_events == 2 && h.events[1]->l7.latency_ns == 1);
	CHECK("tc+tcp retry: tcp pair", t.n_events == 2 && t.events[1]->l7.dns.n_ips == 1 &&
	      t.events[1]->l7.latency_ns == 1);
	l7h_free(&h);
	l7h_free(&t);

	/* joined mid-stream: the first bytes are the tail of a message */
	l7h_init(&h, &l7_dns_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.53", 53);
	h.ops->destroy(h.state);
	h.ci.midstream = true;
	h.state = h.ops->create(&h.ci, &h.cfg);
	tcp_msg(&a, &r);
	stream.n = 0;
	putmem(&stream, a.b + 20, a.n - 20);
	putmem(&stream, a.b, a.n);
	l7h_feed(&h, L7_DIR_TO_CLIENT, stream.b, stream.n, 5);
	CHECK_U64("tcp midstream: one message", h.n_events, 1);
	l7h_free(&h);
}

static void test_probe(void)
{
	struct l7_conn_info udp53 = { L7_UDP, "198.18.0.1", "198.18.0.53", 40000, 53, false };
	struct l7_conn_info udp9999 = { L7_UDP, "198.18.0.1", "198.18.0.53", 40000, 9999, false };
	struct l7_conn_info mdns = { L7_UDP, "198.18.0.1", "224.0.0.251", 5353, 5353, false };
	struct l7_conn_info tcp53 = { L7_TCP, "198.18.0.1", "198.18.0.53", 40000, 53, false };
	struct msg m, t;
	header(&m, 0x1234, 0x0100, 1, 0, 0, 0);
	question(&m, "probe.example", 1);
	int on53 = l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp53);
	int off53 = l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp9999);
	CHECK("probe: query on 53 is certain-ish", on53 >= 90);
	CHECK("probe: query elsewhere still detected", off53 >= 50 && off53 < on53);
	tcp_msg(&t, &m);
	CHECK("probe: tcp length prefix", l7_dns_ops.probe(t.b, t.n, L7_DIR_TO_SERVER, &tcp53) >= 90);
	CHECK("probe: tcp without prefix fails", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &tcp53) == 0);
	CHECK("probe: http is not dns", l7_dns_ops.probe((const uint8_t *)"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, L7_DIR_TO_SERVER, &udp53) == 0);
	CHECK("probe: short", l7_dns_ops.probe(m.b, 11, L7_DIR_TO_SERVER, &udp53) == 0);
	header(&m, 1, 0x7800, 1, 0, 0, 0);   /* opcode 15 */
	question(&m, "probe.example", 1);
	CHECK("probe: unassigned opcode only on a DNS port", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp53) >= 50 &&
	      l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp9999) < 50);
	header(&m, 1, 0x0110, 1, 0, 0, 0);   /* NBNS name query */
	put8(&m, 32);
	putmem(&m, "FHEPFCELEHFCEPFFFACACACACACACABN", 32);
	put8(&m, 0); put16(&m, 32); put16(&m, 1);
	CHECK("probe: netbios name service is not dns", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp9999) == 0);
	header(&m, 1, 0x0100, 2, 0, 0, 0);   /* two questions */
	question(&m, "a.example", 1);
	question(&m, "b.example", 1);
	CHECK("probe: two questions accepted", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp9999) >= 50);
	header(&m, 1, 0x0100, 1, 40, 0, 0);  /* counts that cannot fit */
	question(&m, "probe.example", 1);
	CHECK("probe: insane counts", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp53) == 0);
	/* mDNS announcement: no question, answers only */
	header(&m, 0, 0x8400, 0, 1, 0, 0);
	name(&m, "host.local"); put16(&m, 1); put16(&m, 0x8001); put32(&m, 120); put16(&m, 4); putmem(&m, ip2, 4);
	CHECK("probe: mdns answer without question", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &mdns) > 50);
	CHECK("probe: no question off mdns", l7_dns_ops.probe(m.b, m.n, L7_DIR_TO_SERVER, &udp53) == 0);
	struct l7_harness h;
	l7h_init(&h, &l7_dns_ops, L7_UDP, "198.18.0.1", 5353, "224.0.0.251", 5353);
	l7h_feed(&h, L7_DIR_TO_SERVER, m.b, m.n, 1);
	CHECK("mdns: query named by the first answer", h.n_events == 1 &&
	      strcmp(h.events[0]->l7.dns.query, "host.local.") == 0 && h.events[0]->l7.dns.n_ips == 1);
	l7h_free(&h);
}

/* Payloads of peer-corpus captures; expected values are the peers' (tcpdump's
 * decode, DeepFlow's .result and expected-perf.txt) and tshark's for TTLs. */
static void test_corpus(void)
{
	struct l7_harness h;
	const char *udp_tcp[][2] = { { "tests/unit/data/dns/dns_udp.vec", "130282000" },
	                             { "tests/unit/data/dns/dns_tcp.vec", "125857000" } };
	for (int i = 0; i < 2; i++) {
		setup(&h, i ? L7_TCP : L7_UDP);
		vec_feed(&h, udp_tcp[i][0]);
		char name[128];
		snprintf(name, sizeof(name), "corpus tcpdump %s: two events", i ? "dns_tcp" : "dns_udp");
		CHECK_U64(name, h.n_events, 2);
		if (h.n_events == 2) {
			const struct fe_dns *q = &h.events[0]->l7.dns, *r = &h.events[1]->l7.dns;
			snprintf(name, sizeof(name), "corpus tcpdump %s: A? www.tcpdump.org.", i ? "dns_tcp" : "dns_udp");
			CHECK(name, strcmp(q->query, "www.tcpdump.org.") == 0 &&
			      strs_eq(q->qtypes, q->n_qtypes, STRS("A")) && h.events[0]->l7.type == FE_L7_REQUEST);
			snprintf(name, sizeof(name), "corpus tcpdump %s: answers", i ? "dns_tcp" : "dns_udp");
			CHECK(name, strs_eq(r->ips, r->n_ips, STRS("192.139.46.66", "198.199.88.104")) &&
			      strs_eq(r->rrtypes, r->n_rrtypes, STRS("A", "A")) && r->ttl == 60 && r->rcode == 0 &&
			      r->n_cnames == 0);
			snprintf(name, sizeof(name), "corpus tcpdump %s: latency", i ? "dns_tcp" : "dns_udp");
			CHECK_U64(name, h.events[1]->l7.latency_ns, strtoull(udp_tcp[i][1], NULL, 10));
		}
		l7h_free(&h);
	}

	/* DeepFlow dns-tcp-multi: two queries in one segment (A, AAAA) */
	setup(&h, L7_TCP);
	vec_feed(&h, "tests/unit/data/dns/deepflow_tcp_multi.vec");
	CHECK_U64("corpus deepflow tcp-multi: 2 requests + 2 responses", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK("corpus deepflow tcp-multi: requests", h.events[0]->l7.type == FE_L7_REQUEST &&
		      h.events[1]->l7.type == FE_L7_REQUEST &&
		      strcmp(h.events[1]->l7.dns.query, "details.deepflow-ebpf-istio-demo.svc.cluster.local.") == 0 &&
		      strs_eq(h.events[1]->l7.dns.qtypes, h.events[1]->l7.dns.n_qtypes, STRS("AAAA")));
		const struct fe_dns *a = &h.events[2]->l7.dns, *b = &h.events[3]->l7.dns;
		CHECK("corpus deepflow tcp-multi: A=192.168.59.22 TTL=12",
		      strs_eq(a->ips, a->n_ips, STRS("192.168.59.22")) && a->ttl == 12);
		CHECK("corpus deepflow tcp-multi: AAAA answered with SOA only", b->n_ips == 0 &&
		      b->n_rrtypes == 0 && b->ttl == 4294967295u && b->rcode == 0);
		CHECK_U64("corpus deepflow tcp-multi: rrt 294us", h.events[2]->l7.latency_ns, 294000);
		CHECK_U64("corpus deepflow tcp-multi: rrt 355us", h.events[3]->l7.latency_ns, 355000);
	}
	l7h_free(&h);

	/* Suricata dns-tcp-multirequest-buffer: 20 requests, 20 responses over TCP */
	setup(&h, L7_TCP);
	vec_feed(&h, "tests/unit/data/dns/suricata_tcp_multirequest.vec");
	size_t nq = 0, nr = 0, lat = 0;
	for (size_t i = 0; i < h.n_events; i++) {
		if (h.events[i]->l7.type == FE_L7_REQUEST)
			nq++;
		else
			nr++, lat += h.events[i]->l7.latency_ns > 0;
	}
	CHECK("corpus suricata tcp-multirequest: 20 requests, 20 matched responses", nq == 20 && nr == 20 && lat == 20);
	l7h_free(&h);

	/* Suricata dns-forward-pointer: 2 questions, the first a forward pointer */
	setup(&h, L7_UDP);
	vec_feed(&h, "tests/unit/data/dns/suricata_forward_pointer.vec");
	CHECK_U64("corpus suricata forward-pointer: request + response", h.n_events, 2);
	if (h.n_events == 2) {
		const struct fe_dns *q = &h.events[0]->l7.dns;
		CHECK("corpus suricata forward-pointer: codemonkey.net. A,A", strcmp(q->query, "codemonkey.net.") == 0 &&
		      strs_eq(q->qtypes, q->n_qtypes, STRS("A", "A")));
		CHECK("corpus suricata forward-pointer: response matched", h.events[1]->l7.latency_ns > 0);
	}
	l7h_free(&h);

	/* DeepFlow dns: NXDOMAIN (response_code 3) and NOERROR/NODATA */
	setup(&h, L7_TCP);
	vec_feed(&h, "tests/unit/data/dns/deepflow_dns.vec");
	CHECK_U64("corpus deepflow dns: 4 events", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK("corpus deepflow dns: guoyongxin.com. NXDOMAIN",
		      strcmp(h.events[1]->l7.dns.query, "guoyongxin.com.") == 0 && h.events[1]->l7.dns.rcode == 3);
		CHECK_U64("corpus deepflow dns: rrt 176754us", h.events[1]->l7.latency_ns, 176754000);
		CHECK("corpus deepflow dns: yunshan.net.cn. NOERROR",
		      strcmp(h.events[3]->l7.dns.query, "yunshan.net.cn.") == 0 && h.events[3]->l7.dns.rcode == 0);
		CHECK_U64("corpus deepflow dns: rrt 4804us", h.events[3]->l7.latency_ns, 4804000);
	}
	l7h_free(&h);
}

int main(void)
{
	test_corpus();
	test_udp_query_response();
	test_nxdomain_and_no_answer();
	test_matching();
	test_reversed_direction();
	test_names();
	test_edns_rcode_and_multi_question();
	test_off_chain_and_tc();
	test_ipv6_format();
	test_tcp();
	test_probe();
	return CHECK_DONE();
}
