/* HTTP/2 parser (l7/http2.c) through the parser harness. Header blocks come
 * from nghttp2's HPACK encoder, so the dynamic table is exercised the way
 * real peers exercise it. */
#include "check.h"
#include "h2_build.h"
#include "l7_harness.h"

#include <stdio.h>

extern const struct l7_parser_ops l7_http2_ops;

#define C2S L7_DIR_TO_SERVER
#define S2C L7_DIR_TO_CLIENT

struct peer {
	nghttp2_hd_deflater *cli, *srv;   /* encoders of the client and the server */
	struct h2b c, s;                  /* bytes to send */
};

static void peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	nghttp2_hd_deflate_new(&p->cli, 4096);
	nghttp2_hd_deflate_new(&p->srv, 4096);
}

static void peer_free(struct peer *p)
{
	nghttp2_hd_deflate_del(p->cli);
	nghttp2_hd_deflate_del(p->srv);
	h2b_free(&p->c);
	h2b_free(&p->s);
}

/* Send what was built so far in one direction. */
static void flush(struct l7_harness *h, struct peer *p, enum l7_dir d, uint64_t ts)
{
	struct h2b *b = d == C2S ? &p->c : &p->s;
	if (b->len)
		l7h_feed(h, d, b->p, b->len, ts);
	h2b_reset(b);
}

static void start(struct l7_harness *h, struct peer *p, bool midstream)
{
	peer_init(p);
	l7h_init(h, &l7_http2_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 8080);
	if (midstream) {
		h->ops->destroy(h->state);
		h->ci.midstream = true;
		h->state = h->ops->create(&h->ci, &h->cfg);
	}
	if (!midstream) {
		h2b_put(&p->c, H2B_PREFACE, 24);
		h2b_settings(&p->c, NULL, NULL, 0);
		h2b_settings(&p->s, NULL, NULL, 0);
	}
}

static const nghttp2_nv get_req[] = {
	H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "example.test:8080"),
	H2NV(":path", "/index.html?x=1"), H2NV("user-agent", "nghttp2/1.52.0"), H2NV("accept", "*/*"),
	H2NV("x-request-id", "abc"),
};
static const nghttp2_nv ok_resp[] = {
	H2NV(":status", "200"), H2NV("content-type", "text/html"), H2NV("content-length", "5"),
};

static void test_get(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, true, get_req, 7, 0);
	flush(&h, &p, C2S, 1000);
	h2b_headers(&p.s, p.srv, 1, false, ok_resp, 3, 0);
	h2b_frame(&p.s, 0, 1, 1, "hello", 5);
	flush(&h, &p, S2C, 5000);

	CHECK_U64("get: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		struct flow_event *rq = h.events[0], *rs = h.events[1];
		CHECK_U64("get: request type", rq->l7.type, FE_L7_REQUEST);
		CHECK_STR("get: method", rq->l7.http.method, "GET");
		CHECK_STR("get: url", rq->l7.http.url, "http://example.test:8080/index.html?x=1");
		CHECK_STR("get: protocol", rq->l7.http.protocol, "HTTP/2");
		CHECK_U64("get: request headers", rq->l7.http.n_headers, 3);
		CHECK_STR("get: header 0 key", rq->l7.http.headers[0].key, "Accept");
		CHECK_STR("get: header 1", rq->l7.http.headers[1].key, "User-Agent");
		CHECK_STR("get: header 1 value", rq->l7.http.headers[1].value, "nghttp2/1.52.0");
		CHECK_STR("get: header 2", rq->l7.http.headers[2].key, "X-Request-Id");
		CHECK_U64("get: request time", rq->time_ns, 1000);
		CHECK_U64("get: response type", rs->l7.type, FE_L7_RESPONSE);
		CHECK_U64("get: code", rs->l7.http.code, 200);
		CHECK_U64("get: latency", rs->l7.latency_ns, 4000);
		CHECK_STR("get: response method", rs->l7.http.method, "GET");
		CHECK_STR("get: response url", rs->l7.http.url, "http://example.test:8080/index.html?x=1");
		CHECK_U64("get: response headers", rs->l7.http.n_headers, 3);
		CHECK_STR("get: content-length", l7h_http_header(rs, "Content-Length"), "5");
		CHECK_STR("get: content-type", l7h_http_header(rs, "Content-Type"), "text/html");
		CHECK_STR("get: request id copied", l7h_http_header(rs, "X-Request-Id"), "abc");
		CHECK_STR("get: response source", rs->ip_src, "198.18.0.2");
		CHECK("get: nothing unknown", rq->l7_info.unknown_headers == 0 && rs->l7_info.unknown_headers == 0 &&
		      !rs->l7_info.truncated && rs->l7_info.messages == 0);
	}
	l7h_free(&h);
	peer_free(&p);
}

/* Byte-at-a-time delivery gives the same events as whole segments. */
static void test_bytewise(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	for (uint32_t sid = 1; sid <= 5; sid += 2)
		h2b_headers(&p.c, p.cli, sid, true, get_req, 7, 7);
	for (size_t i = 0; i < p.c.len; i++)
		l7h_feed(&h, C2S, p.c.p + i, 1, 100 + i);
	h2b_reset(&p.c);
	for (uint32_t sid = 5; sid >= 1; sid -= 2) {
		h2b_headers(&p.s, p.srv, sid, false, ok_resp, 3, 5);
		uint8_t padded[1 + 5 + 3] = { 3, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
		h2b_frame(&p.s, 0, 0x8 | 1, sid, padded, sizeof(padded));
		if (sid == 1)
			break;
	}
	for (size_t i = 0; i < p.s.len; i++)
		l7h_feed(&h, S2C, p.s.p + i, 1, 10000 + i);
	CHECK_U64("bytewise: 6 events", h.n_events, 6);
	int ok = 0;
	for (size_t i = 0; i < h.n_events; i++) {
		struct flow_event *e = h.events[i];
		if (e->l7.http.method && strcmp(e->l7.http.method, "GET") == 0 && e->l7.http.url &&
		    strcmp(e->l7.http.url, "http://example.test:8080/index.html?x=1") == 0 &&
		    (e->l7.type == FE_L7_REQUEST || (e->l7.http.code == 200 && e->l7.http.n_headers == 3)))
			ok++;
	}
	CHECK_U64("bytewise: all complete", ok, 6);
	if (h.n_events == 6)
		CHECK_U64("bytewise: responses in wire order (stream 5 first)",
		          h.events[3]->dport, 40000);
	CHECK_U64("bytewise: no desync", l7h_counter(&h, "http2.desync") + l7h_counter(&h, "http2.hpack_desync"), 0);
	l7h_free(&h);
	peer_free(&p);
}

/* Many concurrent streams, responses in reverse order, large headers that
 * fill and churn the dynamic table, split in CONTINUATION frames. */
static void test_many_streams(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	char paths[100][32], big[100][600];
	enum { N = 100 };
	for (int i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "/item/%d", i);
		memset(big[i], 'a' + i % 26, 500);
		snprintf(big[i] + 500, 100, "-%d", i);
		nghttp2_nv nv[] = {
			H2NV(":method", "POST"), H2NV(":scheme", "http"), H2NV(":authority", "svc"),
			{ (uint8_t *)":path", (uint8_t *)paths[i], 5, strlen(paths[i]), 0 },
			{ (uint8_t *)"x-big", (uint8_t *)big[i], 5, strlen(big[i]), 0 },
			H2NV("x-same", "constant value indexed after the first block"),
		};
		h2b_headers(&p.c, p.cli, 1 + 2 * (uint32_t)i, false, nv, 6, 200);
		h2b_frame(&p.c, 0, 1, 1 + 2 * (uint32_t)i, "body", 4);
	}
	flush(&h, &p, C2S, 1000);
	CHECK_U64("many: 100 requests", h.n_events, N);
	for (int i = N - 1; i >= 0; i--) {
		char st[8];
		snprintf(st, sizeof(st), "%d", 200 + i % 3);
		nghttp2_nv nv[] = {
			{ (uint8_t *)":status", (uint8_t *)st, 7, strlen(st), 0 },
			{ (uint8_t *)"x-echo", (uint8_t *)big[i], 6, strlen(big[i]), 0 },
		};
		h2b_headers(&p.s, p.srv, 1 + 2 * (uint32_t)i, true, nv, 2, 100);
	}
	flush(&h, &p, S2C, 2000);
	CHECK_U64("many: 200 events", h.n_events, 2 * N);
	int good = 0;
	for (size_t k = N; k < h.n_events; k++) {
		struct flow_event *e = h.events[k];
		int i = N - 1 - (int)(k - N);
		if (e->l7.http.code == (uint32_t)(200 + i % 3) && e->l7.http.url &&
		    strcmp(e->l7.http.url + strlen("http://svc"), paths[i]) == 0 &&
		    l7h_http_header(e, "X-Echo") && strcmp(l7h_http_header(e, "X-Echo"), big[i]) == 0)
			good++;
	}
	CHECK_U64("many: every response matches its request", good, N);
	int reqs = 0;
	for (int i = 0; i < N && (size_t)i < h.n_events; i++)
		if (l7h_http_header(h.events[i], "X-Big") &&
		    strcmp(l7h_http_header(h.events[i], "X-Big"), big[i]) == 0 &&
		    l7h_http_header(h.events[i], "X-Same"))
			reqs++;
	CHECK_U64("many: every request has its big header", reqs, N);
	l7h_free(&h);
	peer_free(&p);
}

static const nghttp2_nv grpc_req[] = {
	H2NV(":method", "POST"), H2NV(":scheme", "http"), H2NV(":path", "/helloworld.Greeter/SayHello"),
	H2NV(":authority", "198.18.0.2:50051"), H2NV("content-type", "application/grpc"),
	H2NV("te", "trailers"), H2NV("grpc-timeout", "5S"),
};

static void test_grpc_unary(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, false, grpc_req, 7, 0);
	flush(&h, &p, C2S, 100);
	CHECK_U64("grpc: request waits for the end of the client side", h.n_events, 0);
	struct h2b m = { 0 };
	h2b_grpc_msg(&m, 12);
	h2b_frame(&p.c, 0, 1, 1, m.p, m.len);
	flush(&h, &p, C2S, 200);
	CHECK_U64("grpc: request emitted", h.n_events, 1);
	nghttp2_nv rh[] = { H2NV(":status", "200"), H2NV("content-type", "application/grpc") };
	nghttp2_nv tr[] = { H2NV("grpc-status", "0"), H2NV("grpc-message", "") };
	h2b_headers(&p.s, p.srv, 1, false, rh, 2, 0);
	h2b_reset(&m);
	h2b_grpc_msg(&m, 20);
	h2b_frame(&p.s, 0, 0, 1, m.p, m.len);
	h2b_headers(&p.s, p.srv, 1, true, tr, 2, 0);
	flush(&h, &p, S2C, 1100);
	CHECK_U64("grpc: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		struct flow_event *rq = h.events[0], *rs = h.events[1];
		CHECK_STR("grpc: url", rq->l7.http.url, "http://198.18.0.2:50051/helloworld.Greeter/SayHello");
		CHECK_U64("grpc: request messages", rq->l7_info.messages, 1);
		CHECK_U64("grpc: request stamped with its headers", rq->time_ns, 100);
		CHECK_U64("grpc: response stamped with its headers", rs->time_ns, 1100);
		CHECK_U64("grpc: response messages", rs->l7_info.messages, 1);
		CHECK_STR("grpc: status in headers", l7h_http_header(rs, "Grpc-Status"), "0");
		CHECK_STR("grpc: message in headers", l7h_http_header(rs, "Grpc-Message"), "");
		CHECK_U64("grpc: code", rs->l7.http.code, 200);
		CHECK_U64("grpc: latency from request headers", rs->l7.latency_ns, 1000);
		CHECK_U64("grpc: response headers", rs->l7.http.n_headers, 3);
	}
	h2b_free(&m);
	l7h_free(&h);
	peer_free(&p);
}

/* Streaming both ways: messages split over frames and several per frame. */
static void test_grpc_bidi(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	nghttp2_nv rq[] = {
		H2NV(":method", "POST"), H2NV(":scheme", "http"), H2NV(":path", "/chat.Chat/Talk"),
		H2NV(":authority", "chat"), H2NV("content-type", "application/grpc+proto"),
	};
	h2b_headers(&p.c, p.cli, 3, false, rq, 5, 0);
	nghttp2_nv rh[] = { H2NV(":status", "200"), H2NV("content-type", "application/grpc+proto") };
	h2b_headers(&p.s, p.srv, 3, false, rh, 2, 0);
	struct h2b all = { 0 };
	for (int i = 0; i < 7; i++)
		h2b_grpc_msg(&all, (size_t)(i * 300));   /* includes an empty message */
	/* client: 7 messages in frames of 1000 bytes */
	for (size_t off = 0; off < all.len; off += 1000) {
		size_t k = all.len - off > 1000 ? 1000 : all.len - off;
		h2b_frame(&p.c, 0, 0, 3, all.p + off, k);
	}
	h2b_frame(&p.c, 0, 1, 3, NULL, 0);
	/* server: 3 messages in one frame, then trailers with an error */
	struct h2b three = { 0 };
	for (int i = 0; i < 3; i++)
		h2b_grpc_msg(&three, 10);
	h2b_frame(&p.s, 0, 0, 3, three.p, three.len);
	nghttp2_nv tr[] = { H2NV("grpc-status", "14"), H2NV("grpc-message", "unavailable%20now") };
	flush(&h, &p, C2S, 10);
	flush(&h, &p, S2C, 20);
	h2b_headers(&p.s, p.srv, 3, true, tr, 2, 0);
	flush(&h, &p, S2C, 30);
	CHECK_U64("bidi: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_U64("bidi: client messages", h.events[0]->l7_info.messages, 7);
		CHECK_U64("bidi: server messages", h.events[1]->l7_info.messages, 3);
		CHECK_STR("bidi: grpc-status", l7h_http_header(h.events[1], "Grpc-Status"), "14");
		CHECK_STR("bidi: grpc-message", l7h_http_header(h.events[1], "Grpc-Message"), "unavailable%20now");
		fe_set_summary(h.events[1]);
		CHECK_STR("bidi: summary decodes the message", h.events[1]->summary,
		          "HTTP/2 200 0ms (POST http://chat/chat.Chat/Talk) gRPC UNAVAILABLE: unavailable now");
	}
	h2b_free(&all);
	h2b_free(&three);
	l7h_free(&h);
	peer_free(&p);
}

static void test_grpc_trailers_only(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, false, grpc_req, 7, 0);
	struct h2b m = { 0 };
	h2b_grpc_msg(&m, 3);
	h2b_frame(&p.c, 0, 1, 1, m.p, m.len);
	flush(&h, &p, C2S, 100);
	nghttp2_nv to[] = { H2NV(":status", "200"), H2NV("content-type", "application/grpc"),
	                    H2NV("grpc-status", "5"), H2NV("grpc-message", "no such greeting") };
	h2b_headers(&p.s, p.srv, 1, true, to, 4, 0);
	flush(&h, &p, S2C, 300);
	CHECK_U64("trailers-only: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_STR("trailers-only: grpc-status", l7h_http_header(h.events[1], "Grpc-Status"), "5");
		CHECK_STR("trailers-only: grpc-message", l7h_http_header(h.events[1], "Grpc-Message"), "no such greeting");
		fe_set_summary(h.events[1]);
		CHECK_STR("trailers-only: summary", h.events[1]->summary,
		          "HTTP/2 200 0ms (POST http://198.18.0.2:50051/helloworld.Greeter/SayHello) gRPC NOT_FOUND: no such greeting");
		CHECK_U64("trailers-only: no response messages", h.events[1]->l7_info.messages, 0);
		CHECK_U64("trailers-only: 1 request message", h.events[0]->l7_info.messages, 1);
	}
	h2b_free(&m);
	l7h_free(&h);
	peer_free(&p);
}

static void test_rst_goaway(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	for (uint32_t sid = 1; sid <= 7; sid += 2)
		h2b_headers(&p.c, p.cli, sid, true, get_req, 7, 0);
	flush(&h, &p, C2S, 100);
	CHECK_U64("rst: 4 requests", h.n_events, 4);
	/* stream 3: response headers then RST_STREAM(CANCEL) */
	h2b_headers(&p.s, p.srv, 3, false, ok_resp, 3, 0);
	uint8_t code[4] = { 0, 0, 0, 8 };
	h2b_frame(&p.s, 3, 0, 3, code, 4);
	/* GOAWAY: last stream 1; streams 5 and 7 were not processed */
	uint8_t ga[8] = { 0, 0, 0, 1, 0, 0, 0, 0 };
	h2b_frame(&p.s, 7, 0, 0, ga, 8);
	h2b_headers(&p.s, p.srv, 1, true, ok_resp, 3, 0);
	flush(&h, &p, S2C, 200);
	CHECK_U64("rst: 8 events", h.n_events, 8);
	if (h.n_events == 8) {
		CHECK_U64("rst: stream 3 code", h.events[4]->l7.http.code, 200);
		CHECK("rst: stream 3 truncated", h.events[4]->l7_info.truncated);
		CHECK("goaway: stream 5 truncated", h.events[5]->l7_info.truncated &&
		      h.events[5]->l7.http.code == 0 && h.events[6]->l7_info.truncated);
		CHECK("goaway: stream 1 completes", !h.events[7]->l7_info.truncated &&
		      h.events[7]->l7.http.code == 200);
	}
	CHECK_U64("rst: counted", l7h_counter(&h, "http2.stream_reset"), 1);
	CHECK_U64("goaway: counted", l7h_counter(&h, "http2.stream_goaway"), 2);
	l7h_free(&h);
	peer_free(&p);
}

static void test_push(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, true, get_req, 7, 0);
	flush(&h, &p, C2S, 100);
	nghttp2_nv pr[] = { H2NV(":method", "GET"), H2NV(":scheme", "http"),
	                    H2NV(":authority", "example.test:8080"), H2NV(":path", "/style.css") };
	uint8_t blk[512];
	size_t n = h2b_hpack(p.srv, pr, 4, blk + 4 + 1, sizeof(blk) - 5);
	blk[0] = 2;   /* pad length */
	blk[1] = 0, blk[2] = 0, blk[3] = 0, blk[4] = 2;   /* promised stream 2 */
	memmove(blk + 5, blk + 5, n);
	blk[5 + n] = blk[6 + n] = 0;
	h2b_frame(&p.s, 5, 0x4 | 0x8, 1, blk, 5 + n + 2);
	h2b_headers(&p.s, p.srv, 1, true, ok_resp, 3, 0);
	nghttp2_nv css[] = { H2NV(":status", "200"), H2NV("content-type", "text/css") };
	h2b_headers(&p.s, p.srv, 2, false, css, 2, 0);
	h2b_frame(&p.s, 0, 1, 2, "a{}", 3);
	flush(&h, &p, S2C, 300);
	CHECK_U64("push: 4 events", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_STR("push: pushed request url", h.events[1]->l7.http.url, "http://example.test:8080/style.css");
		CHECK_U64("push: pushed request is a request", h.events[1]->l7.type, FE_L7_REQUEST);
		CHECK_STR("push: pushed response type", l7h_http_header(h.events[3], "Content-Type"), "text/css");
		CHECK_STR("push: pushed response url", h.events[3]->l7.http.url, "http://example.test:8080/style.css");
	}
	l7h_free(&h);
	peer_free(&p);
}

/* Informational response, PRIORITY/PING/WINDOW_UPDATE/unknown frames in
 * between, HEADERS with priority and padding. */
static void test_frames(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	uint8_t blk[512];
	size_t n = h2b_hpack(p.cli, get_req, 7, blk + 6, sizeof(blk) - 20);
	blk[0] = 4;   /* pad length */
	memset(blk + 1, 0, 5);   /* priority: dependency 0, weight 1 */
	memset(blk + 6 + n, 0, 4);
	h2b_frame(&p.c, 1, 0x1 | 0x4 | 0x8 | 0x20, 1, blk, 6 + n + 4);
	uint8_t prio[5] = { 0, 0, 0, 0, 16 };
	h2b_frame(&p.c, 2, 0, 3, prio, 5);
	h2b_frame(&p.c, 6, 0, 0, "pingpong", 8);
	uint8_t wu[4] = { 0, 1, 0, 0 };
	h2b_frame(&p.c, 8, 0, 0, wu, 4);
	h2b_frame(&p.c, 0xb, 0, 0, "extension frame", 15);   /* unknown type: skipped */
	flush(&h, &p, C2S, 100);
	nghttp2_nv info[] = { H2NV(":status", "103"), H2NV("link", "</style.css>; rel=preload") };
	h2b_headers(&p.s, p.srv, 1, false, info, 2, 0);
	h2b_frame(&p.s, 6, 1, 0, "pingpong", 8);
	h2b_headers(&p.s, p.srv, 1, true, ok_resp, 3, 0);
	flush(&h, &p, S2C, 200);
	CHECK_U64("frames: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_STR("frames: padded+priority request", h.events[0]->l7.http.url,
		          "http://example.test:8080/index.html?x=1");
		CHECK_U64("frames: final status, not 103", h.events[1]->l7.http.code, 200);
		CHECK("frames: 103 fields dropped", l7h_http_header(h.events[1], "Link") == NULL);
	}
	l7h_free(&h);
	peer_free(&p);
}

/* Header table size changes: the client allows a bigger table (the server
 * encoder then uses it), then the encoder shrinks its table in a block. */
static void test_table_size(void)
{
	struct l7_harness h;
	struct peer p;
	peer_init(&p);
	nghttp2_hd_deflate_del(p.srv);
	nghttp2_hd_deflate_new(&p.srv, 16384);
	l7h_init(&h, &l7_http2_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 8080);
	h2b_put(&p.c, H2B_PREFACE, 24);
	uint16_t id = 1;
	uint32_t val = 16384;
	h2b_settings(&p.c, &id, &val, 1);
	h2b_settings(&p.s, NULL, NULL, 0);
	h2b_frame(&p.s, 4, 1, 0, NULL, 0);   /* ACK */
	nghttp2_hd_deflate_change_table_size(p.srv, 16384);
	/* 20 distinct 600-byte values: 12 KB of table, beyond the default 4 KB */
	char vals[20][700];
	for (int i = 0; i < 20; i++) {
		memset(vals[i], 'A' + i, 600);
		vals[i][600] = 0;
	}
	uint32_t sid = 1;
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 20; i++, sid += 2) {
			h2b_headers(&p.c, p.cli, sid, true, get_req, 7, 0);
			nghttp2_nv nv[] = { H2NV(":status", "200"),
			                    { (uint8_t *)"x-v", (uint8_t *)vals[i], 3, 600, 0 } };
			h2b_headers(&p.s, p.srv, sid, true, nv, 2, 0);
		}
	}
	/* shrink: the next block starts with a size update */
	nghttp2_hd_deflate_change_table_size(p.srv, 1024);
	h2b_headers(&p.c, p.cli, sid, true, get_req, 7, 0);
	nghttp2_nv nv[] = { H2NV(":status", "204"), { (uint8_t *)"x-v", (uint8_t *)vals[3], 3, 600, 0 } };
	h2b_headers(&p.s, p.srv, sid, true, nv, 2, 0);
	flush(&h, &p, C2S, 10);
	flush(&h, &p, S2C, 20);
	CHECK_U64("table size: events", h.n_events, 2 * 41);
	int good = 0;
	for (size_t k = 0; k < h.n_events; k++) {
		struct flow_event *e = h.events[k];
		if (e->l7.type != FE_L7_RESPONSE)
			continue;
		const char *v = l7h_http_header(e, "X-V");
		if (v && strlen(v) == 600 && e->l7_info.unknown_headers == 0)
			good++;
	}
	CHECK_U64("table size: all responses decoded", good, 41);
	CHECK_U64("table size: no desync", l7h_counter(&h, "http2.hpack_desync"), 0);
	l7h_free(&h);
	peer_free(&p);
}

/* Joining mid-connection: the encoders' tables hold entries from blocks we
 * never saw. */
static void test_midstream(void)
{
	struct l7_harness h;
	struct peer p;
	peer_init(&p);
	/* before the capture: traffic that fills both tables */
	uint8_t scratch[4096];
	nghttp2_nv custom[] = {
		H2NV(":method", "PUT"), H2NV(":scheme", "http"), H2NV(":authority", "old.example"),
		H2NV(":path", "/secret/path"), H2NV("x-token", "t0k3n"),
	};
	h2b_hpack(p.cli, custom, 5, scratch, sizeof(scratch));
	nghttp2_nv old_resp[] = { H2NV(":status", "201"), H2NV("x-old", "old value") };
	h2b_hpack(p.srv, old_resp, 2, scratch, sizeof(scratch));

	l7h_init(&h, &l7_http2_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 8080);
	h.ops->destroy(h.state);
	h.ci.midstream = true;
	h.state = h.ops->create(&h.ci, &h.cfg);

	/* The same request again: :method, :authority and x-token are now
	 * indexed from the table we never saw; nghttp2 sends :path as a literal
	 * with a static name, so it is certain, and the URL falls back to the
	 * server address for the unknown authority. */
	h2b_headers(&p.c, p.cli, 101, true, custom, 5, 0);
	flush(&h, &p, C2S, 100);
	/* 201 was indexed (dynamic) before we joined; 404 is in the static table */
	nghttp2_nv new_resp[] = { H2NV(":status", "404"), H2NV("x-old", "old value"), H2NV("x-new", "fresh") };
	h2b_headers(&p.s, p.srv, 101, true, new_resp, 3, 0);
	flush(&h, &p, S2C, 200);
	CHECK_U64("midstream: 2 events", h.n_events, 2);
	if (h.n_events == 2) {
		struct flow_event *rq = h.events[0], *rs = h.events[1];
		CHECK("midstream: unknown method omitted", rq->l7.http.method == NULL);
		CHECK_U64("midstream: unknown fields", rq->l7_info.unknown_headers, 3);
		CHECK_STR("midstream: literal path, address as host", rq->l7.http.url,
		          "http://198.18.0.2:8080/secret/path");
		CHECK("midstream: no guessed token", l7h_http_header(rq, "X-Token") == NULL);
		CHECK_U64("midstream: :status (static table) known", rs->l7.http.code, 404);
		CHECK_STR("midstream: literal field known", l7h_http_header(rs, "X-New"), "fresh");
		CHECK("midstream: old entry unknown", l7h_http_header(rs, "X-Old") == NULL &&
		      rs->l7_info.unknown_headers == 1);
	}
	/* New entries inserted since joining are known: a new custom header
	 * sent twice is decoded from our table the second time. */
	nghttp2_nv req2[] = {
		H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "new.example"),
		H2NV(":path", "/"), H2NV("x-fresh", "yes"),
	};
	h2b_headers(&p.c, p.cli, 103, true, req2, 5, 0);
	h2b_headers(&p.c, p.cli, 105, true, req2, 5, 0);
	flush(&h, &p, C2S, 300);
	CHECK_U64("midstream: 4 events", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_STR("midstream: new entries recovered", h.events[3]->l7.http.url, "http://new.example/");
		CHECK_STR("midstream: method from static table", h.events[3]->l7.http.method, "GET");
		CHECK_STR("midstream: indexed new field", l7h_http_header(h.events[3], "X-Fresh"), "yes");
		CHECK_U64("midstream: nothing unknown", h.events[3]->l7_info.unknown_headers, 0);
	}
	/* A dynamic table size update to 0 empties the table: fully known. */
	nghttp2_hd_deflate_change_table_size(p.cli, 0);
	nghttp2_hd_deflate_change_table_size(p.cli, 4096);
	h2b_headers(&p.c, p.cli, 107, true, custom, 5, 0);
	h2b_headers(&p.c, p.cli, 109, true, custom, 5, 0);
	flush(&h, &p, C2S, 400);
	CHECK_U64("midstream: 6 events", h.n_events, 6);
	if (h.n_events == 6) {
		CHECK_STR("midstream: after size update: method", h.events[5]->l7.http.method, "PUT");
		CHECK_STR("midstream: after size update: url", h.events[5]->l7.http.url, "http://old.example/secret/path");
		CHECK_STR("midstream: after size update: token", l7h_http_header(h.events[5], "X-Token"), "t0k3n");
	}
	CHECK("midstream: recovery counted", l7h_counter(&h, "http2.hpack_recovered") >= 1);
	CHECK("midstream: unknown fields counted", l7h_counter(&h, "http2.unknown_fields") >= 4);
	l7h_free(&h);
	peer_free(&p);
}

/* Gaps: inside a DATA payload the stream continues; across frames the
 * parser finds frame boundaries again. */
static void test_gaps(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, false, grpc_req, 7, 0);
	h2b_headers(&p.c, p.cli, 3, true, get_req, 7, 0);
	flush(&h, &p, C2S, 10);
	struct h2b m = { 0 };
	h2b_grpc_msg(&m, 1000);
	/* DATA frame header + first 100 bytes, then a 500-byte hole, then the rest */
	uint8_t fh[9] = { 0, (uint8_t)(m.len >> 8), (uint8_t)m.len, 0, 1, 0, 0, 0, 1 };
	l7h_feed(&h, C2S, fh, 9, 20);
	l7h_feed(&h, C2S, m.p, 100, 20);
	l7h_gap(&h, C2S, 500, 30);
	l7h_feed(&h, C2S, m.p + 600, m.len - 600, 40);
	CHECK_U64("gap in data: request emitted", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_U64("gap in data: gap bytes", h.events[1]->l7_info.gap_bytes, 500);
		CHECK_STR("gap in data: url", h.events[1]->l7.http.url,
		          "http://198.18.0.2:50051/helloworld.Greeter/SayHello");
	}
	/* server: headers for 3, then a hole that swallows a frame boundary */
	h2b_headers(&p.s, p.srv, 3, false, ok_resp, 3, 0);
	h2b_frame(&p.s, 0, 0, 3, "0123456789", 10);
	flush(&h, &p, S2C, 50);
	l7h_gap(&h, S2C, 30, 60);
	/* after the hole: mid-frame garbage, then frames */
	nghttp2_nv rh[] = { H2NV(":status", "200"), H2NV("content-type", "application/grpc") };
	nghttp2_nv tr[] = { H2NV("grpc-status", "0") };
	l7h_feed(&h, S2C, "garbage!", 8, 70);
	h2b_headers(&p.s, p.srv, 1, false, rh, 2, 0);
	h2b_headers(&p.s, p.srv, 1, true, tr, 1, 0);
	h2b_frame(&p.s, 0, 1, 3, "end", 3);
	flush(&h, &p, S2C, 80);
	CHECK_U64("gap across frames: desync counted", l7h_counter(&h, "http2.desync"), 1);
	CHECK_U64("gap across frames: resync counted", l7h_counter(&h, "http2.resync"), 1);
	CHECK_U64("gap across frames: skipped", l7h_counter(&h, "http2.resync_skipped_bytes"), 8);
	CHECK_U64("gap across frames: 4 events", h.n_events, 4);
	if (h.n_events == 4) {
		/* HPACK restarted after the hole: :status is static, content-type's
		 * name is static, grpc-status is a literal: all known */
		CHECK_U64("gap across frames: grpc response code", h.events[2]->l7.http.code, 200);
		CHECK_STR("gap across frames: grpc status", l7h_http_header(h.events[2], "Grpc-Status"), "0");
		CHECK_U64("gap past frame end: stream 3 ends", h.events[3]->l7.http.code, 200);
	}
	h2b_free(&m);
	l7h_free(&h);
	peer_free(&p);
}

/* A GET for path on stream sid. */
static void get_path(struct peer *p, uint32_t sid, const char *path)
{
	nghttp2_nv nv[] = {
		H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "files.test"),
		{ (uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0 },
	};
	h2b_headers(&p->c, p->cli, sid, true, nv, 4, 0);
}

/* Response headers with a content-length, then len bytes of 'x' in DATA
 * frames of at most frame bytes, the last one ending the stream. */
static void reply(struct peer *p, uint32_t sid, size_t len, size_t frame)
{
	char cl[24];
	snprintf(cl, sizeof(cl), "%zu", len);
	nghttp2_nv nv[] = { H2NV(":status", "200"), { (uint8_t *)"content-length", (uint8_t *)cl, 14, strlen(cl), 0 } };
	h2b_headers(&p->s, p->srv, sid, false, nv, 2, 0);
	static uint8_t xs[16384];
	memset(xs, 'x', sizeof(xs));
	for (size_t off = 0; off < len || len == 0; off += frame) {
		size_t k = len - off < frame ? len - off : frame;
		h2b_frame(&p->s, 0, off + k == len ? 1 : 0, sid, xs, k);
		if (len == 0)
			break;
	}
}

static const struct flow_event *response_for(const struct l7_harness *h, const char *url)
{
	for (size_t i = 0; i < h->n_events; i++)
		if (h->events[i]->l7.type == FE_L7_RESPONSE && h->events[i]->l7.http.url &&
		    strcmp(h->events[i]->l7.http.url, url) == 0)
			return h->events[i];
	return NULL;
}

/* A gap that runs past the end of the DATA frame it starts in: that frame's
 * end (and END_STREAM) still counts, the stream completes with its lost
 * bytes; the next boundary is found after the gap; a stream whose response
 * headers were in the gap is counted, not invented; a stream that was open
 * during the gap but whose size says it lost nothing completes clean. */
static void test_gap_across_frames(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	get_path(&p, 1, "/one");
	get_path(&p, 3, "/three");
	get_path(&p, 5, "/five");
	flush(&h, &p, C2S, 10);
	reply(&p, 1, 3000, 16384);
	const size_t d1 = p.s.len - 3000;            /* stream 1's DATA payload */
	reply(&p, 3, 100, 16384);
	const size_t d3 = p.s.len - 100;             /* stream 3's DATA payload */
	reply(&p, 5, 5, 16384);
	/* lost: the last 2000 bytes of stream 1's DATA, stream 3's HEADERS and
	 * the first 50 bytes of its DATA */
	const size_t from = d1 + 1000, to = d3 + 50;
	l7h_feed(&h, S2C, p.s.p, from, 20);
	l7h_gap(&h, S2C, to - from, 30);
	l7h_feed(&h, S2C, p.s.p + to, p.s.len - to, 40);
	h2b_reset(&p.s);
	const struct flow_event *r1 = response_for(&h, "http://files.test/one");
	CHECK("gap past frame end: stream 1 ends at its frame's end", r1 != NULL);
	if (r1) {
		CHECK_U64("gap past frame end: stream 1 code", r1->l7.http.code, 200);
		CHECK_U64("gap past frame end: stream 1 lost bytes", r1->l7_info.gap_bytes, 2000);
		CHECK("gap past frame end: stream 1 complete", !r1->l7_info.truncated);
	}
	const struct flow_event *r5 = response_for(&h, "http://files.test/five");
	CHECK("gap past frame end: stream 5 after the gap", r5 != NULL);
	if (r5) {
		CHECK_U64("gap past frame end: stream 5 code", r5->l7.http.code, 200);
		CHECK_U64("gap past frame end: stream 5 lost nothing (content-length)", r5->l7_info.gap_bytes, 0);
		CHECK("gap past frame end: stream 5 complete", !r5->l7_info.truncated);
		CHECK_STR("gap past frame end: stream 5 header", l7h_http_header(r5, "Content-Length"), "5");
	}
	CHECK_U64("gap past frame end: desync", l7h_counter(&h, "http2.desync"), 1);
	CHECK_U64("gap past frame end: resync", l7h_counter(&h, "http2.resync"), 1);
	CHECK_U64("gap past frame end: skipped the rest of stream 3's DATA",
	          l7h_counter(&h, "http2.resync_skipped_bytes"), 50);
	l7h_close(&h, C2S, 50);
	l7h_close(&h, S2C, 50);
	CHECK("gap past frame end: stream 3's response not invented", response_for(&h, "http://files.test/three") == NULL);
	CHECK_U64("gap past frame end: stream 3's response counted lost", l7h_counter(&h, "http2.response_lost"), 1);
	CHECK_U64("gap past frame end: 3 requests + 2 responses", h.n_events, 5);
	l7h_free(&h);
	peer_free(&p);
}

/* A frame header cut by a gap after its length arrived: the frame's end is
 * known, framing is not lost. The frame (stream 1's last DATA, with its
 * END_STREAM) is: the stream completes at the end with what its
 * content-length says is missing. */
static void test_gap_in_frame_header(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	get_path(&p, 1, "/one");
	get_path(&p, 3, "/three");
	flush(&h, &p, C2S, 10);
	reply(&p, 1, 150, 100);                      /* DATA 100, DATA 50 + END_STREAM */
	const size_t second = p.s.len - 50 - 9;      /* header of the second DATA frame */
	reply(&p, 3, 5, 100);
	l7h_feed(&h, S2C, p.s.p, second + 3, 20);
	l7h_gap(&h, S2C, 10, 30);                    /* 6 header bytes and 4 payload bytes */
	l7h_feed(&h, S2C, p.s.p + second + 13, p.s.len - second - 13, 40);
	CHECK_U64("cut header: framing kept", l7h_counter(&h, "http2.desync"), 0);
	CHECK_U64("cut header: counted", l7h_counter(&h, "http2.frame_header_cut"), 1);
	const struct flow_event *r3 = response_for(&h, "http://files.test/three");
	CHECK("cut header: the next stream is complete", r3 && r3->l7.http.code == 200 &&
	      r3->l7_info.gap_bytes == 0 && !r3->l7_info.truncated);
	l7h_close(&h, C2S, 50);
	l7h_close(&h, S2C, 50);
	const struct flow_event *r1 = response_for(&h, "http://files.test/one");
	CHECK("cut header: stream 1 reported at the end", r1 != NULL);
	if (r1) {
		CHECK_U64("cut header: stream 1 missing bytes from its content-length", r1->l7_info.gap_bytes, 50);
		CHECK("cut header: stream 1 not truncated (its size explains the loss)", !r1->l7_info.truncated);
	}
	l7h_free(&h);
	peer_free(&p);
}

/* flowd's live budget: past it, every packet keeps its first 512 payload
 * bytes and the rest is a gap. Three writes of the server, each starting a
 * packet: a download (stream 1, four 16 KB DATA frames, their headers
 * mostly cut); its last frame with the response to stream 5, whose DATA
 * frame header is cut; the response to stream 3. All three are reported,
 * complete, with the bytes they lost. */
static void test_gap_budget(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	get_path(&p, 1, "/big");
	get_path(&p, 3, "/small");
	get_path(&p, 5, "/mid");
	flush(&h, &p, C2S, 10);
	flush(&h, &p, S2C, 15);   /* SETTINGS */
	enum { BIG = 4 * 16384 + 480, PKT = 1448, KEEP = 512 };
	struct h2b writes[3] = { { 0 }, { 0 }, { 0 } };
	reply(&p, 1, BIG, 16384);
	const size_t last = p.s.len - 480 - 9;   /* stream 1's last frame starts write 2 */
	h2b_put(&writes[0], p.s.p, last);
	h2b_put(&writes[1], p.s.p + last, p.s.len - last);
	h2b_reset(&p.s);
	reply(&p, 5, 2000, 16384);
	h2b_put(&writes[1], p.s.p, p.s.len);
	/* stream 5's DATA frame header straddles the end of the kept bytes */
	CHECK("budget cut: (test set-up) stream 5's DATA header is cut",
	      writes[1].len - 2000 - 9 < KEEP && writes[1].len - 2000 > KEEP);
	h2b_reset(&p.s);
	reply(&p, 3, 5, 16384);
	h2b_put(&writes[2], p.s.p, p.s.len);
	h2b_reset(&p.s);
	uint64_t cut = 0, ts = 20;
	for (int w = 0; w < 3; w++) {
		for (size_t off = 0; off < writes[w].len; off += PKT) {
			size_t n = writes[w].len - off < PKT ? writes[w].len - off : PKT;
			size_t k = n < KEEP ? n : KEEP;
			l7h_feed(&h, S2C, writes[w].p + off, k, ts++);
			if (n > k) {
				l7h_gap(&h, S2C, n - k, ts++);
				cut += n - k;
			}
		}
	}
	const struct flow_event *r3 = response_for(&h, "http://files.test/small");
	CHECK("budget cut: the last stream is reported", r3 != NULL);
	if (r3)
		CHECK("budget cut: ... complete", r3->l7.http.code == 200 && !r3->l7_info.truncated &&
		      r3->l7_info.gap_bytes == 0);
	const struct flow_event *r1 = response_for(&h, "http://files.test/big");
	CHECK("budget cut: the download is reported at its end", r1 != NULL);
	if (r1) {
		CHECK_U64("budget cut: download code", r1->l7.http.code, 200);
		CHECK("budget cut: download not truncated", !r1->l7_info.truncated);
		CHECK("budget cut: download lost at least the cut bytes of its body, at most its body",
		      r1->l7_info.gap_bytes >= cut - 4 * 9 - 2000 && r1->l7_info.gap_bytes <= BIG);
	}
	l7h_close(&h, C2S, ts);
	l7h_close(&h, S2C, ts);
	const struct flow_event *r5 = response_for(&h, "http://files.test/mid");
	CHECK("budget cut: the stream whose DATA header was cut is reported", r5 != NULL);
	if (r5) {
		CHECK_U64("budget cut: its code", r5->l7.http.code, 200);
		CHECK("budget cut: not truncated (its size explains the loss)", !r5->l7_info.truncated);
		CHECK_U64("budget cut: its whole body lost", r5->l7_info.gap_bytes, 2000);
	}
	CHECK_U64("budget cut: 6 events", h.n_events, 6);
	CHECK("budget cut: frame boundaries found again", l7h_counter(&h, "http2.resync") > 0);
	for (int w = 0; w < 3; w++)
		h2b_free(&writes[w]);
	l7h_free(&h);
	peer_free(&p);
}

/* A gap inside a request's header block: the fields decoded before it are
 * reported, the block's later insertions are lost, so the next request's
 * references to them are unknown (never decoded from a wrong table); new
 * insertions are known again. */
static void test_gap_in_headers(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	flush(&h, &p, C2S, 5);
	nghttp2_nv nv[] = {
		H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "svc.example"),
		H2NV(":path", "/first"), H2NV("x-token", "secret-token-value"), H2NV("x-trace", "t-1"),
	};
	h2b_headers(&p.c, p.cli, 1, true, nv, 6, 0);
	/* lose 20 bytes in the middle of the block (after :method, :scheme
	 * and the start of :authority) */
	const size_t lost_at = 9 + 6;
	l7h_feed(&h, C2S, p.c.p, lost_at, 10);
	l7h_gap(&h, C2S, 20, 11);
	l7h_feed(&h, C2S, p.c.p + lost_at + 20, p.c.len - lost_at - 20, 12);
	h2b_reset(&p.c);
	CHECK_U64("headers gap: request reported", h.n_events, 1);
	if (h.n_events == 1) {
		CHECK_STR("headers gap: method decoded before the gap", h.events[0]->l7.http.method, "GET");
		CHECK("headers gap: no URL (its fields were lost)", h.events[0]->l7.http.url == NULL);
		CHECK("headers gap: counted in the event", h.events[0]->l7_info.gap_bytes == 20 &&
		      h.events[0]->l7_info.unknown_headers >= 1);
	}
	/* the same request again: :authority, x-token and x-trace are now
	 * references to entries the lost block inserted */
	nv[3] = (nghttp2_nv)H2NV(":path", "/second");
	h2b_headers(&p.c, p.cli, 3, true, nv, 6, 0);
	flush(&h, &p, C2S, 20);
	CHECK_U64("headers gap: second request", h.n_events, 2);
	if (h.n_events == 2) {
		const struct flow_event *e = h.events[1];
		CHECK_STR("headers gap: static method known", e->l7.http.method, "GET");
		CHECK("headers gap: no token from a lost entry", l7h_http_header(e, "X-Token") == NULL);
		CHECK("headers gap: no trace from a lost entry", l7h_http_header(e, "X-Trace") == NULL);
		CHECK("headers gap: unknown fields counted", e->l7_info.unknown_headers >= 3);
		CHECK("headers gap: URL only if certain", e->l7.http.url == NULL ||
		      strcmp(e->l7.http.url, "http://svc.example/second") == 0 ||
		      strcmp(e->l7.http.url, "http://198.18.0.2:8080/second") == 0);
	}
	/* new entries, used twice: known again */
	nghttp2_nv nv2[] = {
		H2NV(":method", "POST"), H2NV(":scheme", "http"), H2NV(":authority", "new.example"),
		H2NV(":path", "/third"), H2NV("x-fresh", "yes"),
	};
	h2b_headers(&p.c, p.cli, 5, true, nv2, 5, 0);
	h2b_headers(&p.c, p.cli, 7, true, nv2, 5, 0);
	flush(&h, &p, C2S, 30);
	CHECK_U64("headers gap: 4 requests", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_STR("headers gap: recovered url", h.events[3]->l7.http.url, "http://new.example/third");
		CHECK_STR("headers gap: recovered field", l7h_http_header(h.events[3], "X-Fresh"), "yes");
		CHECK_U64("headers gap: recovered: nothing unknown", h.events[3]->l7_info.unknown_headers, 0);
	}
	CHECK_U64("headers gap: framing kept", l7h_counter(&h, "http2.desync"), 0);
	CHECK_U64("headers gap: table restarted once", l7h_counter(&h, "http2.hpack_desync"), 1);
	l7h_free(&h);
	peer_free(&p);
}

/* A wrong boundary found after a gap (bytes that look like two frames of
 * an open stream) is given up when the frames after it make no sense. */
static void test_gap_false_boundary(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	get_path(&p, 1, "/one");
	get_path(&p, 3, "/three");
	flush(&h, &p, C2S, 10);
	reply(&p, 1, 0, 16384);
	flush(&h, &p, S2C, 20);   /* (stream 1 done) */
	nghttp2_nv rh[] = { H2NV(":status", "200") };
	h2b_headers(&p.s, p.srv, 3, false, rh, 1, 0);
	flush(&h, &p, S2C, 30);   /* stream 3 open */
	l7h_gap(&h, S2C, 1000, 40);
	/* two empty DATA frames of stream 3, then garbage, then the real end */
	uint8_t fake[18] = { 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
	l7h_feed(&h, S2C, fake, sizeof(fake), 50);
	l7h_feed(&h, S2C, "\xee\xee\xee\xee\xee\xee\xee\xee\xee\xee", 10, 51);
	h2b_frame(&p.s, 0, 0, 3, "abc", 3);
	h2b_frame(&p.s, 0, 1, 3, "de", 2);
	flush(&h, &p, S2C, 60);
	CHECK_U64("false boundary: given up", l7h_counter(&h, "http2.resync_false"), 1);
	CHECK_U64("false boundary: found again", l7h_counter(&h, "http2.resync"), 2);
	CHECK_U64("false boundary: stream 3 ends", h.n_events, 4);
	l7h_free(&h);
	peer_free(&p);
}

static void test_limits(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h.cfg.max_header_bytes = 100;
	char big[200];
	memset(big, 'q', 150);
	big[150] = 0;
	nghttp2_nv nv[] = {
		H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "a"), H2NV(":path", "/"),
		H2NV("x-small", "1"), { (uint8_t *)"x-huge", (uint8_t *)big, 6, 150, 0 }, H2NV("x-after", "2"),
	};
	h2b_headers(&p.c, p.cli, 1, true, nv, 7, 0);
	flush(&h, &p, C2S, 10);
	CHECK_U64("limit: request emitted", h.n_events, 1);
	if (h.n_events == 1) {
		CHECK("limit: truncated", h.events[0]->l7_info.truncated);
		CHECK_STR("limit: fields before the bound kept", l7h_http_header(h.events[0], "X-Small"), "1");
		CHECK("limit: fields after dropped", !l7h_http_header(h.events[0], "X-Huge") &&
		      !l7h_http_header(h.events[0], "X-After"));
	}
	CHECK_U64("limit: counted", l7h_counter(&h, "http2.header_bytes_exceeded"), 1);
	l7h_free(&h);
	peer_free(&p);
}

/* Header bytes held per connection are bounded across streams, and
 * released when streams finish. */
static void test_budget(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	static char big[30001];
	memset(big, 'h', 30000);
	nghttp2_nv nv[] = {
		H2NV(":method", "GET"), H2NV(":scheme", "http"), H2NV(":authority", "a"), H2NV(":path", "/"),
		{ (uint8_t *)"x-big", (uint8_t *)big, 5, 30000, 0 },
	};
	for (uint32_t i = 0; i < 40; i++)   /* 40 x 30 kB: beyond the 1 MB budget */
		h2b_headers(&p.c, p.cli, 1 + 2 * i, true, nv, 5, 16000);
	flush(&h, &p, C2S, 10);
	CHECK_U64("budget: 40 requests", h.n_events, 40);
	size_t whole = 0;
	for (size_t i = 0; i < h.n_events; i++)
		whole += !h.events[i]->l7_info.truncated && l7h_http_header(h.events[i], "X-Big");
	CHECK_U64("budget: the first 34 kept their header", whole, 34);
	CHECK_U64("budget: counted", l7h_counter(&h, "http2.header_budget_exceeded"), 6);
	for (uint32_t i = 0; i < 40; i++)
		h2b_headers(&p.s, p.srv, 1 + 2 * i, true, ok_resp, 3, 0);
	flush(&h, &p, S2C, 20);
	h2b_headers(&p.c, p.cli, 81, true, nv, 5, 16000);
	flush(&h, &p, C2S, 30);
	CHECK_U64("budget: 81 events", h.n_events, 81);
	if (h.n_events == 81)
		CHECK("budget: released when streams end", !h.events[80]->l7_info.truncated &&
		      l7h_http_header(h.events[80], "X-Big"));
	l7h_free(&h);
	peer_free(&p);
}

/* HTTP/1.1 Upgrade: h2c: http1.c hands over; the server's first bytes are
 * its SETTINGS and the response to the upgrade request on stream 1. */
static void test_upgrade(void)
{
	struct l7_harness h;
	struct peer p;
	peer_init(&p);
	/* The HTTP/1.1 request as http1.c passes it: stream 1, half-closed by
	 * the client. Its HTTP2-Settings allow 64 KB frames to the client. */
	const char *fields[] = {
		"Host", "198.18.0.2", "Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c",
		"HTTP2-Settings", "AAUAAQAA", "X-Request-Id", "up-1",
	};
	const struct l7_upgrade up = { .method = "GET", .url = "http://198.18.0.2/upgraded", .ts_ns = 4,
	                               .headers = fields, .n_headers = 5 };
	l7h_init(&h, &l7_http2_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 80);
	h.ops->upgraded(h.state, &up);
	h2b_settings(&p.s, NULL, NULL, 0);
	h2b_headers(&p.s, p.srv, 1, false, ok_resp, 3, 0);
	flush(&h, &p, S2C, 10);
	h2b_put(&p.c, H2B_PREFACE, 24);
	h2b_settings(&p.c, NULL, NULL, 0);
	h2b_frame(&p.c, 4, 1, 0, NULL, 0);
	h2b_headers(&p.c, p.cli, 3, true, get_req, 7, 0);
	flush(&h, &p, C2S, 20);
	static uint8_t big[20000];
	h2b_frame(&p.s, 0, 1, 1, big, sizeof(big));   /* allowed by HTTP2-Settings */
	h2b_headers(&p.s, p.srv, 3, true, ok_resp, 3, 0);
	flush(&h, &p, S2C, 30);
	CHECK_U64("upgrade: no HTTP/2 request event for stream 1, 3 events", h.n_events, 3);
	if (h.n_events == 3) {
		const struct flow_event *r1 = h.events[1];
		CHECK_U64("upgrade: stream 3 request first", h.events[0]->l7.type, FE_L7_REQUEST);
		CHECK_U64("upgrade: stream 1 response", r1->l7.http.code, 200);
		CHECK_STR("upgrade: stream 1 method from the HTTP/1.1 request", r1->l7.http.method, "GET");
		CHECK_STR("upgrade: stream 1 url from the HTTP/1.1 request", r1->l7.http.url,
		          "http://198.18.0.2/upgraded");
		CHECK_STR("upgrade: stream 1 protocol", r1->l7.http.protocol, "HTTP/2");
		CHECK_U64("upgrade: stream 1 latency from the HTTP/1.1 request", r1->l7.latency_ns, 6);
		CHECK_STR("upgrade: request id repeated", l7h_http_header(r1, "X-Request-Id"), "up-1");
		CHECK("upgrade: complete", !r1->l7_info.truncated && r1->l7_info.gap_bytes == 0);
		CHECK_STR("upgrade: stream 3 is HTTP/2", h.events[2]->l7.http.method, "GET");
	}
	CHECK_U64("upgrade: frames up to the client's SETTINGS", l7h_counter(&h, "http2.frame_too_long"), 0);
	l7h_free(&h);
	h2b_reset(&p.c);
	h2b_reset(&p.s);

	/* Without the request (http1.c lost it): stream 1 is answered without
	 * method and URL, as before. */
	l7h_init(&h, &l7_http2_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 80);
	h2b_settings(&p.s, NULL, NULL, 0);
	h2b_headers(&p.s, p.srv, 1, true, ok_resp, 3, 0);
	flush(&h, &p, S2C, 10);
	CHECK_U64("upgrade unknown: 1 event", h.n_events, 1);
	if (h.n_events == 1) {
		CHECK_U64("upgrade unknown: stream 1 response", h.events[0]->l7.http.code, 200);
		CHECK("upgrade unknown: no method", h.events[0]->l7.http.method == NULL &&
		      h.events[0]->l7.http.url == NULL);
	}
	l7h_free(&h);
	peer_free(&p);
}

/* The end of the connection ends open streams visibly. */
static void test_close(void)
{
	struct l7_harness h;
	struct peer p;
	start(&h, &p, false);
	h2b_headers(&p.c, p.cli, 1, false, grpc_req, 7, 0);
	h2b_headers(&p.c, p.cli, 3, true, get_req, 7, 0);
	flush(&h, &p, C2S, 10);
	h2b_headers(&p.s, p.srv, 3, false, ok_resp, 3, 0);
	flush(&h, &p, S2C, 20);
	CHECK_U64("close: only the GET so far", h.n_events, 1);
	l7h_close(&h, C2S, 30);
	CHECK_U64("close: pending gRPC request emitted", h.n_events, 2);
	if (h.n_events == 2)
		CHECK("close: request truncated", h.events[1]->l7_info.truncated);
	l7h_close(&h, S2C, 40);
	CHECK_U64("close: begun response only", h.n_events, 3);
	if (h.n_events == 3)
		CHECK("close: stream 3 response truncated", h.events[2]->l7_info.truncated &&
		      h.events[2]->l7.http.code == 200);
	CHECK_U64("close: unanswered stream 1 counted", l7h_counter(&h, "http2.unanswered"), 1);
	l7h_free(&h);
	peer_free(&p);
}

static void test_probe(void)
{
	const struct l7_parser_ops *o = &l7_http2_ops;
	struct l7_conn_info ci = { .transport = L7_TCP, .server_port = 8080 };
	CHECK_U64("probe: preface", o->probe((const uint8_t *)H2B_PREFACE "\0\0\0\4", 28, C2S, &ci), 100);
	CHECK_U64("probe: partial preface", o->probe((const uint8_t *)"PRI * HTTP/2", 12, C2S, &ci), 80);
	CHECK_U64("probe: HTTP/1.1 request", o->probe((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, C2S, &ci), 0);
	CHECK_U64("probe: HTTP/1.1 response", o->probe((const uint8_t *)"HTTP/1.1 200 OK\r\n", 17, S2C, &ci), 0);
	const uint8_t tls[] = { 0x16, 3, 1, 0, 0xc8, 1, 0, 0, 0xc4, 3, 3 };
	CHECK_U64("probe: TLS", o->probe(tls, sizeof(tls), C2S, &ci), 0);
	struct h2b b = { 0 };
	uint16_t id = 3;
	uint32_t v = 100;
	h2b_settings(&b, &id, &v, 1);
	CHECK_U64("probe: server SETTINGS alone", o->probe(b.p, b.len, S2C, &ci), 70);
	h2b_frame(&b, 8, 0, 0, "\0\0\1\0", 4);
	CHECK_U64("probe: two frames", o->probe(b.p, b.len, S2C, &ci), 70);
	CHECK_U64("probe: frame header, payload pending", o->probe(b.p, 12, S2C, &ci), 30);
	h2b_reset(&b);
	h2b_frame(&b, 1, 5, 2, "\x82", 1);   /* HEADERS on an even stream from the client */
	CHECK_U64("probe: client HEADERS on even stream", o->probe(b.p, b.len, C2S, &ci), 0);
	h2b_free(&b);
}

int main(void)
{
	test_get();
	test_bytewise();
	test_many_streams();
	test_grpc_unary();
	test_grpc_bidi();
	test_grpc_trailers_only();
	test_rst_goaway();
	test_push();
	test_frames();
	test_table_size();
	test_midstream();
	test_gaps();
	test_gap_across_frames();
	test_gap_in_frame_header();
	test_gap_budget();
	test_gap_in_headers();
	test_gap_false_boundary();
	test_limits();
	test_budget();
	test_upgrade();
	test_close();
	test_probe();
	return CHECK_DONE();
}
