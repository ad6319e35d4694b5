/* The pipeline with a synthetic line protocol: connection and direction
 * logic, detection, reassembly seen from a parser, gaps, protocol switch,
 * L3/L4 flow events and timeouts, bounds and counters, determinism. */
#include "check.h"
#include "l7.h"
#include "pipeline.h"
#include "pkt_parse.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(ns) ((uint64_t)(ns) * 1000000000ull)
#define MS(ms) ((uint64_t)(ms) * 1000000ull)

/* ---- the "lines" protocol: "REQ x\n" from clients, "RSP x\n" from servers.
 * Its parser logs everything it is given; one event per complete line. */
static char plog[1 << 16];
static size_t plog_len;
static int creates, destroys;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(plog + plog_len, sizeof(plog) - plog_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		plog_len += (size_t)n < sizeof(plog) - plog_len ? (size_t)n : 0;
}

struct lines {
	char buf[2][256];
	size_t len[2];
	int proto;
};

static int lines_probe(const uint8_t *d, size_t n, enum l7_dir dir, const struct l7_conn_info *ci)
{
	(void)ci;
	const char *want = dir == L7_DIR_TO_SERVER ? "REQ " : "RSP ";
	if (n >= 4 && memcmp(d, want, 4) == 0)
		return 100;
	if (n >= 5 && memcmp(d, "MAYBE", 5) == 0)
		return 10;
	return 0;
}

static void *lines_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	(void)cfg;
	creates++;
	logf_("[create %s:%u->%s:%u%s]", ci->client_ip, ci->client_port, ci->server_ip,
	      ci->server_port, ci->midstream ? " mid" : "");
	return calloc(1, sizeof(struct lines));
}

static void lines_destroy(void *st)
{
	destroys++;
	free(st);
}

static void lines_data(void *st, struct l7_ctx *ctx, enum l7_dir dir, const uint8_t *p,
                       size_t n, uint64_t ts)
{
	struct lines *l = st;
	logf_("<%c%.*s>", dir == L7_DIR_TO_SERVER ? 'S' : 'C', (int)n, (const char *)p);
	for (size_t i = 0; i < n; i++) {
		if (l->len[dir] < sizeof(l->buf[0]) - 1)
			l->buf[dir][l->len[dir]++] = (char)p[i];
		if (p[i] != '\n')
			continue;
		l->buf[dir][l->len[dir]] = '\0';
		if (strcmp(l->buf[dir], "SWITCH\n") == 0) {
			l->len[dir] = 0;
			l7_switch_protocol(ctx, L7_PROTO_DNS, dir, p + i + 1, n - i - 1);
			return;   /* must not touch ctx or state any more */
		}
		if (strncmp(l->buf[dir], "REQ NAME ", 9) == 0) {
			char ip[64], name[64];
			if (sscanf(l->buf[dir] + 9, "%63s %63s", ip, name) == 2)
				l7_dns_cache_add(ctx, ip, name, 0, ts);
		}
		struct flow_event *ev = l7_event_new(ctx, dir, ts);
		if (ev) {
			ev->l7.kind = FE_L7K_HTTP;
			ev->l7.http.method = "GET";
			ev->l7.http.protocol = "HTTP/1.1";
			ev->l7.http.url = fe_strndup(ev, l->buf[dir], l->len[dir] - 1);
			if (dir == L7_DIR_TO_CLIENT)
				ev->l7.http.code = 200;
			l7_event_emit(ctx, ev);
		}
		l7_count(ctx, "lines.messages", 1);
		l->len[dir] = 0;
	}
}

static void lines_gap(void *st, struct l7_ctx *ctx, enum l7_dir dir, uint64_t len, uint64_t ts)
{
	(void)st; (void)ctx; (void)ts;
	logf_("<%cgap%llu>", dir == L7_DIR_TO_SERVER ? 'S' : 'C', (unsigned long long)len);
}

static void lines_close(void *st, struct l7_ctx *ctx, enum l7_dir dir, uint64_t ts)
{
	(void)st; (void)ctx; (void)ts;
	logf_("<%cclose>", dir == L7_DIR_TO_SERVER ? 'S' : 'C');
}

static const struct l7_parser_ops lines_ops = {
	.name = "lines", .proto = L7_PROTO_HTTP1, .probe = lines_probe, .create = lines_create,
	.destroy = lines_destroy, .data = lines_data, .gap = lines_gap, .close = lines_close,
};

/* A second protocol to switch to; never detected by content. */
static int never_probe(const uint8_t *d, size_t n, enum l7_dir dir, const struct l7_conn_info *ci)
{
	(void)d; (void)n; (void)dir; (void)ci;
	return 0;
}

static void *other_create(const struct l7_conn_info *ci, const struct l7_config *cfg)
{
	(void)ci; (void)cfg;
	creates++;
	logf_("[other]");
	return calloc(1, 1);
}

static void other_data(void *st, struct l7_ctx *ctx, enum l7_dir dir, const uint8_t *p,
                       size_t n, uint64_t ts)
{
	(void)st; (void)ctx; (void)ts;
	logf_("<o%c%.*s>", dir == L7_DIR_TO_SERVER ? 'S' : 'C', (int)n, (const char *)p);
}

static const struct l7_parser_ops other_ops = {
	.name = "other", .proto = L7_PROTO_DNS, .probe = never_probe, .create = other_create,
	.destroy = lines_destroy, .data = other_data, .gap = lines_gap, .close = lines_close,
};

/* ---- event capture */

#define MAX_EV 512
static struct flow_event *evs[MAX_EV];
static size_t n_ev;
static char jsonout[1 << 17];
static size_t jsonout_len;

static void sink(void *user, struct flow_event *ev)
{
	(void)user;
	struct fe_buf b = { 0 };
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	fe_record_to_json(&rec, &b);
	if (jsonout_len + b.len < sizeof(jsonout)) {
		memcpy(jsonout + jsonout_len, b.data, b.len);
		jsonout_len += b.len;
	}
	fe_buf_free(&b);
	if (n_ev < MAX_EV)
		evs[n_ev++] = ev;
	else
		flow_event_free(ev);
}

static void reset(void)
{
	for (size_t i = 0; i < n_ev; i++)
		flow_event_free(evs[i]);
	n_ev = 0;
	plog_len = 0;
	plog[0] = '\0';
	jsonout_len = 0;
	creates = destroys = 0;
}

static struct pipeline *mk(struct pipeline_config *cfg)
{
	static const struct l7_parser_ops *const parsers[] = { &lines_ops, &other_ops };
	cfg->parsers = parsers;
	cfg->n_parsers = 2;
	reset();
	return pipeline_new(cfg, sink, NULL);
}

static struct pipeline *mk_default(void)
{
	struct pipeline_config cfg;
	pipeline_config_defaults(&cfg);
	return mk(&cfg);
}

/* ---- packets: raw IPv4, parsed with the shared parser */

enum { A = 1, B = 2 };   /* hosts 198.18.0.1 and 198.18.0.2 */

static void send_ip(struct pipeline *p, uint64_t ts, int from, uint8_t proto, uint16_t sport,
                    uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                    const char *payload, size_t plen, size_t caplen_cut)
{
	uint8_t b[4096];
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
	size_t len = 20 + l4 + plen;
	memset(b, 0, 20 + l4);
	b[0] = 0x45;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	b[8] = 64;
	b[9] = proto;
	uint8_t sa[4] = { 198, 18, 0, (uint8_t)from }, da[4] = { 198, 18, 0, (uint8_t)(3 - from) };
	memcpy(b + 12, sa, 4);
	memcpy(b + 16, da, 4);
	uint8_t *t = b + 20;
	t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8); t[3] = (uint8_t)dport;
	if (proto == IPPROTO_TCP) {
		for (int i = 0; i < 4; i++) {
			t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
			t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
		}
		t[12] = 5 << 4;
		t[13] = flags;
		t[14] = 0xff;
	} else {
		t[4] = (uint8_t)((8 + plen) >> 8);
		t[5] = (uint8_t)(8 + plen);
	}
	memcpy(b + 20 + l4, payload, plen);
	size_t caplen = len - caplen_cut;
	struct pkt_info pi;
	int st = pkt_parse_l3(b, b + caplen, 0, 0x0800, &pi);
	if (st == PKT_OK)
		pipeline_packet(p, ts, &pi, b, (uint32_t)caplen, (uint32_t)len, 0, NULL, 0);
	else
		pipeline_parse_error(p, st);
}

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* TCP between A:40000 (client) and B:80 unless stated. ISNs: A 1000, B 5000. */
static void tcp(struct pipeline *p, uint64_t ts, int from, uint32_t seq, uint32_t ack,
                uint8_t flags, const char *data)
{
	uint16_t sp = from == A ? 40000 : 80, dp = from == A ? 80 : 40000;
	send_ip(p, ts, from, IPPROTO_TCP, sp, dp, seq, ack, flags, data, strlen(data), 0);
}

static void handshake(struct pipeline *p, uint64_t ts)
{
	tcp(p, ts, A, 1000, 0, F_SYN, "");
	tcp(p, ts + MS(1), B, 5000, 1001, F_SYN | F_ACK, "");
	tcp(p, ts + MS(2), A, 1001, 5001, F_ACK, "");
}

static uint64_t counter(struct pipeline *p, const char *name)
{
	struct pipeline_counter cs[256];
	size_t n = pipeline_counters(p, cs, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		if (strcmp(cs[i].name, name) == 0)
			return cs[i].value;
	return (uint64_t)-1;
}

static size_t count_l7(void)
{
	size_t k = 0;
	for (size_t i = 0; i < n_ev; i++)
		k += evs[i]->type == FE_TYPE_L7;
	return k;
}

static struct flow_event *nth_l7(size_t n)
{
	for (size_t i = 0; i < n_ev; i++)
		if (evs[i]->type == FE_TYPE_L7 && n-- == 0)
			return evs[i];
	return NULL;
}

static bool times_ordered(void)
{
	for (size_t i = 1; i < n_ev; i++)
		if (evs[i]->time_ns < evs[i - 1]->time_ns)
			return false;
	return true;
}

/* ---- tests */

static void test_basic_exchange(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(100));
	tcp(p, S(100) + MS(3), A, 1001, 5001, F_PSH | F_ACK, "REQ /a\n");
	tcp(p, S(100) + MS(9), B, 5001, 1008, F_PSH | F_ACK, "RSP ok\n");
	tcp(p, S(100) + MS(10), A, 1008, 5008, F_FIN | F_ACK, "");
	tcp(p, S(100) + MS(11), B, 5008, 1009, F_FIN | F_ACK, "");
	CHECK_STR("basic: parser saw the streams",
	          plog, "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ /a\n><CRSP ok\n><Sclose><Cclose>");
	CHECK_U64("basic: parser destroyed after both FINs", destroys, 1);
	pipeline_flush(p, S(101));
	CHECK_U64("basic: 2 L7 + 2 start + 2 end events", n_ev, 6);
	struct flow_event *rq = nth_l7(0), *rs = nth_l7(1);
	CHECK("basic: request from client", rq && strcmp(rq->ip_src, "198.18.0.1") == 0 &&
	      rq->sport == 40000 && rq->dport == 80 && rq->is_reply == 0 &&
	      rq->l7.type == FE_L7_REQUEST && rq->l4 == FE_L4_TCP && rq->tcp_flags == 0);
	CHECK("basic: response from server", rs && strcmp(rs->ip_src, "198.18.0.2") == 0 &&
	      rs->sport == 80 && rs->is_reply == 1 && rs->reply && rs->l7.type == FE_L7_RESPONSE);
	CHECK_U64("basic: request time = its packet", rq ? rq->time_ns : 0, S(100) + MS(3));
	CHECK_STR("basic: summary set", rs ? rs->summary : NULL, "HTTP/1.1 200 0ms (GET RSP ok)");
	CHECK("basic: events in time order", times_ordered());
	CHECK_U64("basic: detected http", counter(p, "l7.detected.http"), 1);
	CHECK_U64("basic: parser counter", counter(p, "lines.messages"), 2);
	/* L3/L4 */
	struct flow_event *s0 = evs[0], *s1 = evs[1];
	CHECK("basic: first event is client's flow start",
	      s0->type == FE_TYPE_L3_L4 && s0->stats.event == FE_STATS_START &&
	      s0->is_reply == 0 && s0->tcp_flags == 0x02 && s0->stats.packets == 1);
	CHECK("basic: second is server's flow start (is_reply)",
	      s1->type == FE_TYPE_L3_L4 && s1->stats.event == FE_STATS_START && s1->is_reply == 1 &&
	      s1->tcp_flags == 0x12);
	struct flow_event *e0 = evs[4], *e1 = evs[5];
	CHECK("basic: flows end at flush with totals, timed by their last packet",
	      e0->stats.event == FE_STATS_END && e1->stats.event == FE_STATS_END &&
	      e0->stats.packets == 4 && e1->stats.packets == 3 &&
	      e0->stats.bytes == 40 + 40 + 47 + 40 && e0->time_ns == S(100) + MS(10));
	CHECK("basic: end events carry the union of flags", e0->tcp_flags == (0x02 | 0x10 | 0x08 | 0x01));
	pipeline_free(p);
}

/* No handshake, server speaks first in the capture: content decides. */
static void test_midstream_direction(void)
{
	struct pipeline *p = mk_default();
	/* B is the server on port 80 but we first see its response */
	tcp(p, S(1), B, 7000, 3000, F_PSH | F_ACK, "RSP early\n");
	tcp(p, S(2), A, 3000, 7010, F_PSH | F_ACK, "REQ next\n");
	CHECK_STR("midstream: response first, then request",
	          plog, "[create 198.18.0.1:40000->198.18.0.2:80 mid]<CRSP early\n><SREQ next\n>");
	struct flow_event *r0 = nth_l7(0);
	CHECK("midstream: response event is from the server", r0 && r0->is_reply == 1 &&
	      strcmp(r0->ip_src, "198.18.0.2") == 0 && r0->sport == 80);
	CHECK_U64("midstream: counted", counter(p, "tcp.midstream_conns"), 1);
	pipeline_free(p);

	/* ports give no hint (both high): the response's sender is the server */
	p = mk_default();
	send_ip(p, S(1), A, IPPROTO_TCP, 5555, 6666, 10, 20, F_ACK, "RSP x\n", 6, 0);
	CHECK_STR("midstream: content flips the guess", plog,
	          "[create 198.18.0.2:6666->198.18.0.1:5555 mid]<CRSP x\n>");
	pipeline_free(p);
}

static void test_reorder_retransmit(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(1));
	tcp(p, S(2), A, 1001 + 6, 5001, F_ACK, "cond\nREQ third\n");    /* early */
	tcp(p, S(2) + 1, A, 1001, 5001, F_ACK, "REQ sec");             /* fills, overlaps 1 */
	tcp(p, S(2) + 2, A, 1001, 5001, F_ACK, "REQ sec");             /* retransmission */
	CHECK_STR("reorder: stream in order, once",
	          plog, "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ sec><Sond\nREQ third\n>");
	CHECK_U64("reorder: two requests", count_l7(), 2);
	CHECK_U64("reorder: retransmitted bytes counted", counter(p, "tcp.retransmitted_bytes"), 7);
	CHECK_U64("reorder: overlap counted", counter(p, "tcp.overlap_bytes"), 1);
	pipeline_free(p);
}

static void test_loss_gap(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(1));
	tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ 1\n");
	/* "REQ 2\n" (6 bytes) lost in the capture; the server ACKs past it */
	tcp(p, S(2) + 2, A, 1013, 5001, F_ACK, "REQ 3\n");
	CHECK_STR("loss: held until known lost", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ 1\n>");
	tcp(p, S(2) + 3, B, 5001, 1019, F_ACK, "");
	CHECK_STR("loss: an ACK alone does not yet prove loss", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ 1\n>");
	tcp(p, S(2) + 4, A, 1019, 5001, F_ACK, "");
	CHECK_STR("loss: ACK beyond the hole, then the sender moves on: a gap of its size", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ 1\n><Sgap6><SREQ 3\n>");
	CHECK_U64("loss: gap bytes counted", counter(p, "tcp.gap_bytes"), 6);
	pipeline_free(p);

	/* snap length: the tail of a segment not captured */
	p = mk_default();
	handshake(p, S(1));
	send_ip(p, S(2), A, IPPROTO_TCP, 40000, 80, 1001, 5001, F_ACK, "REQ 1\nREQ 2\n", 12, 4);
	CHECK_STR("snaplen: captured bytes then a gap", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ 1\nRE><Sgap4>");
	CHECK_U64("snaplen: counted", counter(p, "tcp.gap_bytes_snaplen"), 4);
	pipeline_free(p);
}

static void test_detection_buffering(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(1));
	tcp(p, S(2), A, 1001, 5001, F_ACK, "RE");
	CHECK_U64("detect: not yet", creates, 0);
	tcp(p, S(2) + 1, A, 1003, 5001, F_ACK, "Q split\n");
	CHECK_STR("detect: short first segment joined", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SRE><SQ split\n>");
	CHECK_U64("detect: one request", count_l7(), 1);
	pipeline_free(p);

	/* joined mid-message: junk, then a message boundary */
	p = mk_default();
	tcp(p, S(1), A, 100, 900, F_ACK, "tail of an old body");
	tcp(p, S(1) + 1, B, 900, 119, F_ACK, "old response body");
	tcp(p, S(1) + 2, A, 119, 917, F_ACK, "REQ fresh\n");
	CHECK_STR("detect: junk skipped, other side told of its gap", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80 mid]<Cgap17><SREQ fresh\n>");
	CHECK_U64("detect: discarded bytes counted", counter(p, "l7.detect_discarded_bytes"), 19);
	pipeline_free(p);

	/* no protocol at all: give up, counted */
	p = mk_default();
	char junk[1001];
	memset(junk, 'x', 1000);
	junk[1000] = '\0';
	for (int i = 0; i < 20; i++)
		tcp(p, S(1) + (uint64_t)i, A, 100 + 1000u * (uint32_t)i, 900, F_ACK, junk);
	CHECK_U64("detect: gave up", counter(p, "l7.undetected_conns"), 1);
	CHECK_U64("detect: nothing buffered after giving up", counter(p, "memory.buffered_bytes"), 0);
	CHECK_U64("detect: no parser", creates, 0);
	pipeline_free(p);

	/* weak content score: accepted only on a hint port */
	p = mk_default();
	send_ip(p, S(1), A, IPPROTO_TCP, 40000, 80, 1, 1, F_ACK, "MAYBE\n", 6, 0);
	CHECK_U64("detect: weak score + port hint accepted", counter(p, "l7.detected_by_port_hint"), 1);
	send_ip(p, S(1), A, IPPROTO_TCP, 40001, 7777, 1, 1, F_ACK, "MAYBE\n", 6, 0);
	CHECK_U64("detect: weak score without hint refused", counter(p, "l7.detected.http"), 1);
	pipeline_free(p);
}

static void test_switch(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(1));
	tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ up\nSWITCH\nbinary");
	tcp(p, S(3), A, 1001 + 20, 5001, F_ACK, "more");
	CHECK_STR("switch: rest and later bytes go to the new parser", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ up\nSWITCH\nbinary>[other]<oSbinary><oSmore>");
	CHECK_U64("switch: counted", counter(p, "l7.protocol_switches"), 1);
	pipeline_free(p);
	CHECK_U64("switch: both parser states freed", destroys, 2);
}

static void test_udp(void)
{
	struct pipeline *p = mk_default();
	send_ip(p, S(1), A, IPPROTO_UDP, 5353, 40000, 0, 0, 0, "RSP one\n", 8, 0);
	send_ip(p, S(1) + 1, B, IPPROTO_UDP, 40000, 5353, 0, 0, 0, "REQ two\n", 8, 0);
	send_ip(p, S(1) + 2, A, IPPROTO_UDP, 5353, 40000, 0, 0, 0, "RSP three\n", 10, 2);
	CHECK_STR("udp: per datagram, direction by content", plog,
	          "[create 198.18.0.2:40000->198.18.0.1:5353]<CRSP one\n><SREQ two\n>");
	CHECK_U64("udp: truncated datagram skipped and counted", counter(p, "udp.truncated"), 1);
	struct flow_event *e = nth_l7(0);
	CHECK("udp: event has UDP ports", e && e->l4 == FE_L4_UDP && e->sport == 5353 && e->dport == 40000);
	pipeline_free(p);
}

/* UDP fragments: dg is the whole UDP datagram (header included), sent as
 * IPv4 fragments [off, off + len) of it with IP id 77; cut: bytes the
 * capture left out of this fragment. */
static uint8_t dg[64];
static size_t dg_len;

static void udp_dgram(uint16_t sport, uint16_t dport, const char *payload)
{
	size_t n = strlen(payload);
	dg_len = 8 + n;
	dg[0] = (uint8_t)(sport >> 8); dg[1] = (uint8_t)sport;
	dg[2] = (uint8_t)(dport >> 8); dg[3] = (uint8_t)dport;
	dg[4] = (uint8_t)(dg_len >> 8); dg[5] = (uint8_t)dg_len;
	dg[6] = dg[7] = 0;
	memcpy(dg + 8, payload, n);
}

static void send_frag(struct pipeline *p, uint64_t ts, int from, uint16_t id, size_t off, size_t len,
                      size_t cut)
{
	uint8_t b[128];
	bool more = off + len < dg_len;
	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = (uint8_t)((20 + len) >> 8);
	b[3] = (uint8_t)(20 + len);
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	uint16_t fo = (uint16_t)(off / 8 | (more ? 0x2000 : 0));
	b[6] = (uint8_t)(fo >> 8);
	b[7] = (uint8_t)fo;
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	uint8_t sa[4] = { 198, 18, 0, (uint8_t)from }, da[4] = { 198, 18, 0, (uint8_t)(3 - from) };
	memcpy(b + 12, sa, 4);
	memcpy(b + 16, da, 4);
	memcpy(b + 20, dg + off, len);
	struct pkt_info pi;
	int st = pkt_parse_l3(b, b + 20 + len - cut, 0, 0x0800, &pi);
	if (st == PKT_OK)
		pipeline_packet(p, ts, &pi, b, (uint32_t)(20 + len - cut), (uint32_t)(20 + len), 0, NULL, 0);
	else
		pipeline_parse_error(p, st);
}

static void test_udp_fragments(void)
{
	/* in order: one datagram for the parser, at the last fragment's time */
	struct pipeline *p = mk_default();
	send_ip(p, S(1), B, IPPROTO_UDP, 40000, 5353, 0, 0, 0, "REQ a\n", 6, 0);
	udp_dgram(5353, 40000, "RSP fragmented answer, 40 bytes long!!\n");
	send_frag(p, S(2), A, 77, 0, 16, 0);
	send_frag(p, S(2) + 1, A, 77, 16, 16, 0);
	send_frag(p, S(2) + 2, A, 77, 32, dg_len - 32, 0);
	CHECK_STR("udp fragments: reassembled, once", plog,
	          "[create 198.18.0.2:40000->198.18.0.1:5353]<SREQ a\n><CRSP fragmented answer, 40 bytes long!!\n>");
	struct flow_event *e = nth_l7(1);
	CHECK("udp fragments: event at the last fragment's time, with the ports",
	      e && e->time_ns == S(2) + 2 && e->sport == 5353 && e->dport == 40000);
	CHECK_U64("udp fragments: counted", counter(p, "udp.reassembled"), 1);
	CHECK_U64("udp fragments: fragments counted", counter(p, "udp.fragmented"), 3);
	CHECK_U64("udp fragments: nothing held", counter(p, "memory.ip_reasm_bytes"), 0);

	/* reversed: the later fragments are held until their first comes */
	reset();
	udp_dgram(5353, 40000, "RSP second answer, in reverse order!!!\n");
	send_frag(p, S(3), A, 78, 32, dg_len - 32, 0);
	send_frag(p, S(3) + 1, A, 78, 16, 16, 0);
	CHECK("udp fragments reversed: held", counter(p, "memory.ip_reasm_bytes") > 24 && count_l7() == 0);
	send_frag(p, S(3) + 2, A, 78, 0, 16, 0);
	CHECK_STR("udp fragments reversed: reassembled", plog, "<CRSP second answer, in reverse order!!!\n>");
	CHECK_U64("udp fragments reversed: later ones not in a flow (L3/L4 as before)",
	          counter(p, "packets.fragment_unattributed"), 2);

	/* a lost fragment: the rest times out in capture time */
	reset();
	send_frag(p, S(4), A, 79, 0, 16, 0);
	send_frag(p, S(4) + 1, A, 79, 32, dg_len - 32, 0);
	send_frag(p, S(34), A, 79, 16, 16, 0);
	CHECK("udp fragment lost: nothing parsed", !strstr(plog, "RSP") && counter(p, "ip_reasm.timeouts") == 1);

	/* a fragment the snap length cut: the datagram is truncated */
	reset();
	send_frag(p, S(40), A, 80, 0, 16, 0);
	send_frag(p, S(40) + 1, A, 80, 16, 16, 3);
	send_frag(p, S(40) + 2, A, 80, 32, dg_len - 32, 0);
	CHECK("udp fragment cut: nothing parsed", plog[0] == '\0');
	CHECK_U64("udp fragment cut: udp.truncated", counter(p, "udp.truncated"), 1);
	CHECK_U64("udp fragment cut: ip_reasm.truncated", counter(p, "ip_reasm.truncated"), 1);
	CHECK_U64("udp fragment cut: the rest discarded", counter(p, "ip_reasm.discarded_fragments"), 1);
	pipeline_flush(p, S(41));
	CHECK("udp fragments: flow counts every fragment", counter(p, "udp.reassembled") == 2 &&
	                                                   counter(p, "ip_reasm.in_progress") == 0);
	pipeline_free(p);

	/* a connection without L7 keeps no fragment bytes */
	p = mk_default();
	for (int i = 0; i < 8; i++)
		send_ip(p, S(1) + (uint64_t)i, A, IPPROTO_UDP, 7000, 7001, 0, 0, 0, "xx", 2, 0);
	CHECK_U64("udp fragments, L7 off: gave up", counter(p, "l7.undetected_conns"), 1);
	udp_dgram(7000, 7001, "RSP not for any parser, 40 bytes long!\n");
	send_frag(p, S(2), A, 81, 0, 16, 0);
	send_frag(p, S(2) + 1, A, 81, 16, 16, 0);
	CHECK("udp fragments, L7 off: none held", counter(p, "memory.ip_reasm_bytes_peak") == 0 &&
	                                          counter(p, "udp.fragmented") == 0);
	/* ... also when later fragments came first (held until the first
	 * says whose they are) */
	send_frag(p, S(3), A, 82, 32, dg_len - 32, 0);
	CHECK("udp fragments, L7 off, first not seen: held", counter(p, "memory.ip_reasm_bytes") > 0);
	send_frag(p, S(3) + 1, A, 82, 0, 16, 0);
	CHECK("udp fragments, L7 off, first seen: dropped", counter(p, "memory.ip_reasm_bytes") == 0 &&
	                                                    counter(p, "ip_reasm.l7_off_drops") == 1);
	CHECK("udp fragments, L7 off: nothing parsed", count_l7() == 0);
	pipeline_free(p);
}

static void test_timeouts(void)
{
	struct pipeline_config cfg;
	pipeline_config_defaults(&cfg);
	cfg.idle_timeout_ns = S(10);
	cfg.active_timeout_ns = S(30);
	struct pipeline *p = mk(&cfg);
	for (int i = 0; i <= 70; i += 5)      /* 71 s of a steady one-way UDP flow */
		send_ip(p, S(1000 + i), A, IPPROTO_UDP, 1111, 2222, 0, 0, 0, "x", 1, 0);
	send_ip(p, S(1100), A, IPPROTO_UDP, 1111, 2222, 0, 0, 0, "x", 1, 0);  /* after 30 s silence */
	pipeline_flush(p, S(1100));
	int starts = 0, updates = 0, ends = 0;
	for (size_t i = 0; i < n_ev; i++) {
		starts += evs[i]->stats.event == FE_STATS_START;
		updates += evs[i]->stats.event == FE_STATS_UPDATE;
		ends += evs[i]->stats.event == FE_STATS_END;
	}
	CHECK_U64("timeouts: two flow lifetimes", starts, 2);
	CHECK_U64("timeouts: updates every 30 s of the first", updates, 2);
	CHECK_U64("timeouts: two ends", ends, 2);
	CHECK("timeouts: events in time order", times_ordered());
	CHECK("timeouts: update at start + 30 s with counts so far (timed by the last packet)",
	      n_ev > 1 && evs[1]->stats.event == FE_STATS_UPDATE && evs[1]->time_ns == S(1025) &&
	      evs[1]->stats.packets == 6);
	CHECK("timeouts: idle end after 10 s of silence",
	      n_ev > 3 && evs[3]->stats.event == FE_STATS_END && evs[3]->time_ns == S(1070) &&
	      evs[3]->stats.packets == 15 && evs[3]->stats.last_seen_ns == S(1070));
	CHECK("timeouts: new lifetime counts from zero",
	      n_ev > 5 && evs[5]->stats.event == FE_STATS_END && evs[5]->stats.packets == 1);
	pipeline_free(p);
}

static void test_bounds(void)
{
	struct pipeline_config cfg;
	pipeline_config_defaults(&cfg);
	cfg.max_flows = 1;
	struct pipeline *p = mk(&cfg);
	send_ip(p, S(1), A, IPPROTO_UDP, 1, 2, 0, 0, 0, "x", 1, 0);
	send_ip(p, S(1), A, IPPROTO_UDP, 3, 4, 0, 0, 0, "x", 1, 0);
	send_ip(p, S(1), B, IPPROTO_UDP, 2, 1, 0, 0, 0, "x", 1, 0);
	CHECK_U64("bounds: table full counted", counter(p, "packets.untracked_table_full"), 1);
	CHECK_U64("bounds: one connection", counter(p, "conns.active"), 1);
	pipeline_free(p);

	pipeline_config_defaults(&cfg);
	cfg.max_conn_buffer = 300;
	p = mk(&cfg);
	handshake(p, S(1));
	char seg[201];
	memset(seg, 'y', 200);
	seg[200] = 0;
	for (int i = 1; i <= 5; i++)
		tcp(p, S(2), A, 1001 + 6 + 200u * (uint32_t)i, 5001, F_ACK, seg);
	CHECK_U64("bounds: skip counted", counter(p, "tcp.buffer_limit_skips"), 1);
	CHECK_U64("bounds: skipped hole is a gap", counter(p, "tcp.buffer_limit_gap_bytes"), 206);
	pipeline_flush(p, S(3));
	CHECK_U64("bounds: everything released", counter(p, "memory.buffered_bytes"), 0);
	pipeline_free(p);
}

static void test_rst_and_reuse(void)
{
	struct pipeline *p = mk_default();
	handshake(p, S(1));
	tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ a\n");
	tcp(p, S(3), B, 5001, 1007, F_RST, "");
	CHECK_STR("rst: both sides closed", plog,
	          "[create 198.18.0.1:40000->198.18.0.2:80]<SREQ a\n><Sclose><Cclose>");
	CHECK_U64("rst: parser freed", destroys, 1);
	tcp(p, S(4), A, 1007, 5001, F_ACK, "REQ late\n");
	CHECK_U64("rst: data after RST ignored", count_l7(), 1);
	/* the same 4-tuple reused by a new connection */
	tcp(p, S(5), A, 90000, 0, F_SYN, "");
	tcp(p, S(5) + 1, B, 70000, 90001, F_SYN | F_ACK, "");
	tcp(p, S(5) + 2, A, 90001, 70001, F_ACK, "REQ again\n");
	CHECK_U64("reuse: new parser", creates, 2);
	CHECK_U64("reuse: counted", counter(p, "tcp.port_reuse"), 1);
	CHECK_U64("reuse: request seen", count_l7(), 2);
	pipeline_flush(p, S(6));
	CHECK("reuse: L3/L4 flow continues (one start per direction)",
	      n_ev > 1 && evs[0]->stats.event == FE_STATS_START && evs[1]->stats.event == FE_STATS_START);
	pipeline_free(p);
}

static void test_names_and_determinism(void)
{
	char first[sizeof(jsonout)];
	size_t first_len = 0, first_n = 0;
	for (int run = 0; run < 2; run++) {
		struct pipeline_config cfg;
		pipeline_config_defaults(&cfg);
		cfg.node_name = "test-node";
		cfg.uuid_seed = 42;
		struct pipeline *p = mk(&cfg);
		handshake(p, S(1));
		tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ NAME 198.18.0.2 Web.Example.\n");
		tcp(p, S(3), A, 1001 + 33, 5001, F_ACK, "REQ /\n");
		pipeline_flush(p, S(4));
		struct flow_event *e = nth_l7(1);
		CHECK("names: destination_names from the cache",
		      e && e->n_destination_names == 1 &&
		      strcmp(e->destination_names[0], "web.example") == 0 && e->n_source_names == 0);
		CHECK("names: node name set", e && e->node_name && strcmp(e->node_name, "test-node") == 0);
		bool v4 = true;
		for (size_t i = 0; i < n_ev; i++) {
			const char *u = evs[i]->uuid;
			if (strlen(u) != 36 || u[14] != '4' || !strchr("89ab", u[19]) || u[8] != '-')
				v4 = false;
			for (size_t j = 0; j < i; j++)
				if (strcmp(evs[j]->uuid, u) == 0)
					v4 = false;
		}
		CHECK("uuid: version 4 format, unique", v4);
		if (run == 0) {
			memcpy(first, jsonout, jsonout_len);
			first_len = jsonout_len;
			first[first_len] = '\0';
			first_n = n_ev;
		} else {
			CHECK("determinism: same bytes twice", first_len == jsonout_len &&
			      memcmp(first, jsonout, jsonout_len) == 0 && first_len > 0);
		}
		pipeline_free(p);
	}

	/* what no consumer reads is not built; the rest is unchanged */
	struct pipeline_config cfg;
	pipeline_config_defaults(&cfg);
	cfg.node_name = "test-node";
	cfg.uuid_seed = 42;
	cfg.no_names = cfg.no_summary = true;
	struct pipeline *p = mk(&cfg);
	handshake(p, S(1));
	tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ NAME 198.18.0.2 Web.Example.\n");
	tcp(p, S(3), A, 1001 + 33, 5001, F_ACK, "REQ /\n");
	pipeline_flush(p, S(4));
	struct flow_event *e = nth_l7(1);
	CHECK("no_names: no destination_names", e && e->n_destination_names == 0);
	bool none = count_l7() > 0;
	for (size_t i = 0; i < n_ev; i++)
		none &= evs[i]->type != FE_TYPE_L7 || evs[i]->summary == NULL;
	CHECK("no_summary: no Summary on L7 events", none);
	CHECK("no_names, no_summary: same events, same uuids", e && n_ev == first_n &&
	      strstr(first, e->uuid) != NULL);
	pipeline_free(p);
}

static bool want_l7(void *user, const struct flow_event *ev)
{
	(void)user;
	return ev->type == FE_TYPE_L7;
}

/* The early filter drops events before their Summary; skipping L3/L4 events
 * altogether leaves the uuids of the others unchanged. */
static void test_early_filter(void)
{
	char uu[2][4][37];
	for (int mode = 0; mode < 3; mode++) {
		struct pipeline_config cfg;
		pipeline_config_defaults(&cfg);
		if (mode >= 1)
			cfg.want = want_l7;
		cfg.l34_unwanted = mode == 2;
		struct pipeline *p = mk(&cfg);
		handshake(p, S(1));
		tcp(p, S(2), A, 1001, 5001, F_ACK, "REQ /x\n");
		tcp(p, S(3), B, 5001, 1008, F_ACK, "RSP y\n");
		pipeline_flush(p, S(4));
		size_t k = 0;
		for (size_t i = 0; i < n_ev; i++)
			if (evs[i]->type == FE_TYPE_L7 && k < 4)
				memcpy(uu[mode ? 1 : 0][k++], evs[i]->uuid, 37);
		if (mode == 0) {
			CHECK_U64("early filter: unfiltered events", n_ev, 6);
		} else {
			CHECK_U64("early filter: only L7 events reach the sink", n_ev, 2);
			CHECK_U64("early filter: dropped events counted",
			          counter(p, "events.filtered_early"), 4);
			CHECK("early filter: uuids as without the filter",
			      memcmp(uu[0][0], uu[1][0], 37) == 0 && memcmp(uu[0][1], uu[1][1], 37) == 0);
			CHECK("early filter: summary built for kept events", evs[0]->summary != NULL);
		}
		pipeline_free(p);
	}
}

int main(void)
{
	test_early_filter();
	test_basic_exchange();
	test_midstream_direction();
	test_reorder_retransmit();
	test_loss_gap();
	test_detection_buffering();
	test_switch();
	test_udp();
	test_udp_fragments();
	test_timeouts();
	test_bounds();
	test_rst_and_reuse();
	test_names_and_determinism();
	reset();
	return CHECK_DONE();
}
