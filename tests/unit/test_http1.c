/* l7/http1.c through the parser harness: exact field values per feature. */
#include "check.h"
#include "l7_harness.h"
#include "vectors.h"

#include <dirent.h>
#include <stdlib.h>

#include "../fuzz/fuzz_l7.h"

extern const struct l7_parser_ops l7_http1_ops;

#define C2S L7_DIR_TO_SERVER
#define S2C L7_DIR_TO_CLIENT

static void setup(struct l7_harness *h)
{
	l7h_init(h, &l7_http1_ops, L7_TCP, "198.18.0.1", 40000, "198.18.0.2", 8080);
}

/* re-create the parser after changing h->cfg / h->ci */
static void recreate(struct l7_harness *h)
{
	h->ops->destroy(h->state);
	h->state = h->ops->create(&h->ci, &h->cfg);
}

static void feed(struct l7_harness *h, enum l7_dir dir, const char *s, uint64_t ts)
{
	l7h_feed(h, dir, s, strlen(s), ts);
}

static const struct fe_http *http(const struct l7_harness *h, size_t i)
{
	return i < h->n_events ? &h->events[i]->l7.http : NULL;
}

static void test_basic(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: web.example:8080\r\n"
	               "user-agent: curl/8.5.0\r\nAccept: */*\r\nX-Request-Id: abc-123\r\n\r\n", 1000);
	CHECK_U64("basic: request emitted at headers", h.n_events, 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhel", 7001000);
	CHECK_U64("basic: response held until its body ends", h.n_events, 1);
	feed(&h, S2C, "lo", 9000000);
	CHECK_U64("basic: response emitted", h.n_events, 2);
	const struct fe_http *q = http(&h, 0), *r = http(&h, 1);
	if (q && r) {
		CHECK("basic: request kind/type", h.events[0]->l7.kind == FE_L7K_HTTP &&
		      h.events[0]->l7.type == FE_L7_REQUEST && h.events[0]->time_ns == 1000);
		CHECK_STR("basic: method", q->method, "GET");
		CHECK_STR("basic: url from Host", q->url, "http://web.example:8080/index.html?a=1&b=2");
		CHECK_STR("basic: protocol", q->protocol, "HTTP/1.1");
		CHECK_U64("basic: request headers (no Host)", q->n_headers, 3);
		if (q->n_headers == 3) {
			CHECK_STR("basic: header 0", q->headers[0].key, "Accept");
			CHECK_STR("basic: header 1 canonical", q->headers[1].key, "User-Agent");
			CHECK_STR("basic: header 1 value", q->headers[1].value, "curl/8.5.0");
			CHECK_STR("basic: header 2", q->headers[2].key, "X-Request-Id");
		}
		CHECK_U64("basic: code", r->code, 200);
		CHECK_STR("basic: response method", r->method, "GET");
		CHECK_STR("basic: response url", r->url, "http://web.example:8080/index.html?a=1&b=2");
		CHECK_U64("basic: latency to response headers", h.events[1]->l7.latency_ns, 7000000);
		CHECK_U64("basic: response time = headers", h.events[1]->time_ns, 7001000);
		CHECK("basic: response is_reply", h.events[1]->is_reply == 1);
		CHECK_STR("basic: response keeps request id", l7h_http_header(h.events[1], "X-Request-Id"), "abc-123");
		CHECK_STR("basic: response header", l7h_http_header(h.events[1], "Content-Type"), "text/html");
		CHECK("basic: no gap, not truncated", h.events[1]->l7_info.gap_bytes == 0 && !h.events[1]->l7_info.truncated);
	}
	l7h_free(&h);
}

static void test_pipelining_and_keepalive(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
	               "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody", 100);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	               "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"   /* HEAD: no body */
	               "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 600);
	feed(&h, C2S, "DELETE /4 HTTP/1.1\r\nHost: a\r\n\r\n", 700);
	feed(&h, S2C, "HTTP/1.1 204 No Content\r\n\r\n", 800);
	feed(&h, C2S, "GET /5 HTTP/1.1\r\nHost: a\r\n\r\n", 900);
	feed(&h, S2C, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", 950);
	CHECK_U64("pipeline: 10 events", h.n_events, 10);

	if (h.n_events == 10) {
		const char *want_url[] = { "http://a/1", "http://a/2", "http://a/3" };
		unsigned want_code[] = { 200, 200, 201 };
		for (int i = 0; i < 3; i++) {
			char n[64];
			snprintf(n, sizeof(n), "pipeline: response %d paired", i + 1);
			CHECK(n, strcmp(http(&h, 3 + i)->url, want_url[i]) == 0 && http(&h, 3 + i)->code == want_code[i]);
			snprintf(n, sizeof(n), "pipeline: response %d latency", i + 1);
			CHECK_U64(n, h.events[3 + i]->l7.latency_ns, 500);
		}
		CHECK_STR("pipeline: HEAD method on response", http(&h, 4)->method, "HEAD");
		CHECK("keepalive: 204", http(&h, 7)->code == 204 && strcmp(http(&h, 7)->method, "DELETE") == 0);
		CHECK("keepalive: 304 without body", http(&h, 9)->code == 304 && h.events[9]->l7.latency_ns == 50);
	}
	CHECK_U64("pipeline: no errors", l7h_counter(&h, "http.response_unmatched"), 0);
	l7h_free(&h);
}

/* The same exchange fed with every split point gives the same events. */
static void test_splits(void)
{
	const char *req = "POST /up HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
	                   "4\r\nwiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n";
	int bad = 0;
	for (size_t cut = 1; cut < strlen(resp); cut++) {
		struct l7_harness h;
		setup(&h);
		size_t rc = cut % strlen(req);
		l7h_feed(&h, C2S, req, rc, 1);
		l7h_feed(&h, C2S, req + rc, strlen(req) - rc, 2);
		l7h_feed(&h, S2C, resp, cut, 3);
		l7h_feed(&h, S2C, resp + cut, strlen(resp) - cut, 4);
		if (h.n_events != 2 || http(&h, 1)->code != 200 || strcmp(http(&h, 0)->url, "http://s/up") != 0 ||
		    !l7h_http_header(h.events[1], "X-A") || strcmp(l7h_http_header(h.events[1], "X-A"), "1") != 0)
			bad++;
		l7h_free(&h);
	}
	CHECK_U64("splits: every split point parses the same", bad, 0);

	/* byte by byte */
	struct l7_harness h;
	setup(&h);
	for (size_t i = 0; i < strlen(req); i++)
		l7h_feed(&h, C2S, req + i, 1, 10);
	for (size_t i = 0; i < strlen(resp); i++)
		l7h_feed(&h, S2C, resp + i, 1, 20 + i);
	CHECK("splits: byte by byte", h.n_events == 2 && http(&h, 1)->code == 200);
	if (h.n_events == 2)
		CHECK_U64("splits: latency at the end of the response headers", h.events[1]->l7.latency_ns,
		          (uint64_t)(strstr(resp, "\r\n\r\n") - resp) + 3 + 20 - 10);
	l7h_free(&h);
}

static void test_interim_and_expect(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 10);
	feed(&h, S2C, "HTTP/1.1 100 Continue\r\n\r\n", 20);
	feed(&h, C2S, "abc", 30);
	feed(&h, S2C, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 40);
	CHECK_U64("interim: not reported", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_U64("interim: final code", http(&h, 1)->code, 201);
		CHECK_U64("interim: latency to the final response", h.events[1]->l7.latency_ns, 30);
	}
	CHECK_U64("interim: counted", l7h_counter(&h, "http.interim_response"), 2);

	/* final answer before the body: the client skips the body */
	feed(&h, C2S, "POST /g HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9999\r\n\r\n", 50);
	feed(&h, S2C, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n", 60);
	feed(&h, C2S, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 70);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 80);
	CHECK_U64("expect: events", h.n_events, 6);
	if (h.n_events == 6) {
		CHECK("expect: 417 answers the POST", http(&h, 3)->code == 417 && strcmp(http(&h, 3)->url, "http://h/g") == 0);
		CHECK_STR("expect: next request parsed", http(&h, 4)->url, "http://h/next");
	}
	CHECK_U64("expect: skip counted", l7h_counter(&h, "http.expect_body_skipped"), 1);
	l7h_free(&h);
}

static void test_upgrades(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
	               "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	               "\x00\x00\x00\x04\x00\x00\x00\x00\x00", 2);
	CHECK("h2c: switched to HTTP/2", h.switched_to == L7_PROTO_HTTP2);
	CHECK("h2c: 101 reported", h.n_events == 2 && http(&h, 1)->code == 101);
	/* the request goes with the connection: it is HTTP/2 stream 1 */
	CHECK("h2c: upgrade request handed over", h.upgrade.set);
	CHECK_STR("h2c: its method", h.upgrade.method, "GET");
	CHECK_STR("h2c: its url, as reported", h.upgrade.url, "http://h/");
	CHECK_U64("h2c: its time", h.upgrade.ts_ns, 1);
	CHECK_U64("h2c: its fields", h.upgrade.n_headers, 4);
	CHECK("h2c: fields as sent", strcmp(h.upgrade.headers[3][0], "HTTP2-Settings") == 0 &&
	      strcmp(h.upgrade.headers[3][1], "AAMAAABkAAQAAP__") == 0 &&
	      strcmp(h.upgrade.headers[0][0], "Host") == 0 && strcmp(h.upgrade.headers[0][1], "h") == 0);
	l7h_free(&h);

	setup(&h);
	feed(&h, C2S, "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello", 2);
	feed(&h, C2S, "\x81\x85xxxxGET / HTTP/1.1\r\n\r\n", 3);
	CHECK("websocket: 101 reported, nothing after", h.n_events == 2 && http(&h, 1)->code == 101);
	CHECK("websocket: not switched", h.switched_to == L7_PROTO_NONE);
	CHECK_U64("websocket: counted", l7h_counter(&h, "http.upgrade_other"), 1);
	l7h_free(&h);

	/* upgrade declined: requests go on, including the bytes held back */
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	CHECK_U64("declined: second request waits for the answer", h.n_events, 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 2);
	CHECK_U64("declined: all four", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_STR("declined: held request parsed before the answer is paired", http(&h, 1)->url, "http://h/b");
		CHECK("declined: answer to the upgrade request", http(&h, 2)->code == 200 && strcmp(http(&h, 2)->url, "http://h/a") == 0);
		CHECK("declined: paired", http(&h, 3)->code == 404 && strcmp(http(&h, 3)->url, "http://h/b") == 0);
	}
	l7h_free(&h);

	/* CONNECT: 200 makes a tunnel, 407 does not */
	setup(&h);
	feed(&h, C2S, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 2);
	feed(&h, C2S, "CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic eA==\r\n\r\n", 3);
	feed(&h, S2C, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", 4);
	feed(&h, C2S, "\x16\x03\x01\x02\x00", 5);
	CHECK_U64("connect: 4 events", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_STR("connect: url is the authority", http(&h, 0)->url, "http://example.com:443/");
		CHECK("connect: 407 then 200", http(&h, 1)->code == 407 && http(&h, 3)->code == 200);
	}
	CHECK_U64("connect: tunnel counted", l7h_counter(&h, "http.connect_tunnel"), 1);
	CHECK_U64("connect: no parse errors", l7h_counter(&h, "http.error.INVALID_METHOD"), 0);
	l7h_free(&h);

	/* prior-knowledge HTTP/2 preface */
	setup(&h);
	feed(&h, C2S, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04", 1);
	CHECK("preface: switched", h.switched_to == L7_PROTO_HTTP2 && h.n_events == 0);
	CHECK("preface: no request handed over", !h.upgrade.set);
	l7h_free(&h);
}

static void test_close_and_http10(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET /old HTTP/1.0\r\n\r\n", 5);
	feed(&h, S2C, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close", 15);
	CHECK_U64("eof body: held until close", h.n_events, 1);
	l7h_close(&h, S2C, 99);
	CHECK_U64("eof body: emitted at close", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_STR("http/1.0: protocol as Hubble prints it", http(&h, 0)->protocol, "HTTP/1");
		CHECK_STR("http/1.0: no Host -> server address", http(&h, 0)->url, "http://198.18.0.2:8080/old");
		CHECK("eof body: complete, not truncated", !h.events[1]->l7_info.truncated);
		CHECK_U64("eof body: latency", h.events[1]->l7.latency_ns, 10);
	}
	l7h_free(&h);

	setup(&h);
	feed(&h, C2S, "GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n", 5);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", 15);
	l7h_close(&h, S2C, 20);
	CHECK("short body at close: emitted truncated", h.n_events == 3 && h.events[2]->l7_info.truncated);
	CHECK_U64("short body at close: counted", l7h_counter(&h, "http.response_truncated"), 1);
	CHECK_U64("close: unanswered request counted", l7h_counter(&h, "http.request_unanswered"), 1);
	l7h_free(&h);

	/* Connection: close, then the client still sends: reported (lenient) */
	setup(&h);
	feed(&h, C2S, "GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	CHECK_U64("connection close: both requests seen", h.n_events, 2);
	l7h_free(&h);
}

static void test_gaps(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n0123456789", 2);
	l7h_gap(&h, S2C, 5000, 3);
	CHECK_U64("gap in body: still in the message", h.n_events, 2);
	char tail[4991];
	memset(tail, 'z', 4990);
	tail[4990] = 0;
	feed(&h, S2C, tail, 4);
	feed(&h, S2C, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 5);
	CHECK_U64("gap in body: both responses", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK_U64("gap in body: marked", h.events[2]->l7_info.gap_bytes, 5000);
		CHECK("gap in body: next response in step", http(&h, 3)->code == 404 &&
		      strcmp(http(&h, 3)->url, "http://h/b") == 0 && h.events[3]->l7_info.gap_bytes == 0);
	}
	l7h_free(&h);

	/* gap past the end of the body: message completes, resync */
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234", 2);
	l7h_gap(&h, S2C, 40, 3);   /* 5 body bytes + the start of /b's response */
	feed(&h, S2C, "ength: 0\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK_U64("gap past body: events", h.n_events, 5);
	if (h.n_events == 5) {
		CHECK_U64("gap past body: first marked with its part", h.events[3]->l7_info.gap_bytes, 5);
		CHECK("gap past body: /b's response lost, the next pairs with /c", http(&h, 4)->code == 202 &&
		      strcmp(http(&h, 4)->url, "http://h/c") == 0);
	}
	CHECK_U64("gap past body: lost response counted", l7h_counter(&h, "http.response_lost"), 1);
	CHECK_U64("gap past body: resync counted", l7h_counter(&h, "http.resync"), 1);
	l7h_free(&h);

	/* a hole between messages: one response lost, the pairing goes on;
	 * the next segment may start a message even without a line break */
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	l7h_gap(&h, S2C, 60, 3);
	feed(&h, S2C, "AAAAAAAA", 4);
	feed(&h, S2C, "HTTP/1.1 203 OK\r\nContent-Length: 0\r\n\r\n", 5);
	CHECK("gap between responses: next pairs with /c", h.n_events == 5 && http(&h, 4)->code == 203 &&
	      strcmp(http(&h, 4)->url, "http://h/c") == 0);
	l7h_free(&h);

	/* a response-side hole reported before the request it answered was
	 * read (the pipeline delivers directions independently) */
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	l7h_gap(&h, S2C, 40, 3);
	feed(&h, C2S, "GET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n", 4);
	feed(&h, S2C, "HTTP/1.1 204 No Content\r\n\r\n", 5);
	CHECK("hole before its request: next pairs with /c", h.n_events == 5 && http(&h, 4)->code == 204 &&
	      strcmp(http(&h, 4)->url, "http://h/c") == 0);
	/* a hole too small to hold a response (stray CRLF) loses none */
	feed(&h, C2S, "GET /d HTTP/1.1\r\nHost: h\r\n\r\n", 6);
	l7h_gap(&h, S2C, 2, 7);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 8);
	CHECK("small hole: pairing kept", h.n_events == 7 && strcmp(http(&h, 6)->url, "http://h/d") == 0);
	l7h_free(&h);

	/* gap in chunked body: completes, marked, resync */
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 2);
	l7h_gap(&h, S2C, 100, 3);
	feed(&h, S2C, "xx\r\n0\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK_U64("gap chunked: events", h.n_events, 4);
	if (h.n_events == 4) {
		CHECK("gap chunked: marked", h.events[2]->l7_info.gap_bytes == 100 && http(&h, 2)->code == 200);
		CHECK_U64("gap chunked: resynced", http(&h, 3)->code, 500);
	}
	l7h_free(&h);

	/* gap in request headers: a placeholder keeps the pairing right */
	setup(&h);
	feed(&h, C2S, "GET /lost HTTP/1.1\r\nHo", 1);
	l7h_gap(&h, C2S, 10, 2);
	feed(&h, C2S, "\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n", 3);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 OK\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK_U64("gap in headers: events", h.n_events, 3);
	if (h.n_events == 3) {
		CHECK("gap in headers: lost request's response unpaired", http(&h, 1)->code == 200 && !http(&h, 1)->url);
		CHECK("gap in headers: next paired", http(&h, 2)->code == 201 && strcmp(http(&h, 2)->url, "http://h/next") == 0);
	}
	CHECK_U64("gap in headers: counted", l7h_counter(&h, "http.gap_in_headers"), 1);
	l7h_free(&h);
}

static void test_errors_and_bounds(void)
{
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nbl@h /x HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n", 1);
	CHECK_U64("parse error: good requests around it", h.n_events, 2);
	CHECK_U64("parse error: counted by reason", l7h_counter(&h, "http.error.INVALID_METHOD"), 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n"
	               "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	if (h.n_events == 5) {
		CHECK("parse error: 400 answers the bad request", http(&h, 3)->code == 400 && !http(&h, 3)->url);
		CHECK_STR("parse error: pairing kept", http(&h, 4)->url, "http://h/b");
	} else {
		CHECK("parse error: 5 events", 0);
	}
	feed(&h, S2C, "garbage\r\nHTTP/1.1 200 OK\r\nbad header line\r\n\r\n", 3);
	CHECK("response error: counted", l7h_counter(&h, "http.error.INVALID_HEADER_TOKEN") +
	      l7h_counter(&h, "http.error.INVALID_CONSTANT") >= 1);
	l7h_free(&h);

	/* pending bound: 2 queued, third dropped; pairing keeps its place */
	setup(&h);
	h.cfg.max_pending = 2;
	recreate(&h);
	feed(&h, C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	feed(&h, C2S, "GET /4 HTTP/1.1\r\n\r\n", 3);
	feed(&h, S2C, "HTTP/1.1 201 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 202 OK\r\nContent-Length: 0\r\n\r\n"
	               "HTTP/1.1 203 OK\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK_U64("pending bound: overflow counted", l7h_counter(&h, "http.pending_overflow"), 1);
	if (h.n_events == 8) {
		CHECK_STR("pending bound: 1st", http(&h, 3)->url, "http://198.18.0.2:8080/1");
		CHECK_STR("pending bound: 2nd", http(&h, 5)->url, "http://198.18.0.2:8080/2");
		CHECK("pending bound: 3rd unknown", http(&h, 6)->code == 202 && !http(&h, 6)->url);
		CHECK_STR("pending bound: 4th in place", http(&h, 7)->url, "http://198.18.0.2:8080/4");
	} else {
		CHECK("pending bound: 8 events", 0);
	}
	l7h_free(&h);

	/* the queue grows as requests pile up, wherever its head is */
	setup(&h);
	feed(&h, C2S, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	for (int i = 4; i <= 20; i++) {
		char req[64];
		snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
		feed(&h, C2S, req, 3);
	}
	for (int i = 3; i <= 20; i++)
		feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	int in_order = 0;
	for (size_t i = 0; i < h.n_events; i++) {
		char want[64];
		snprintf(want, sizeof(want), "http://198.18.0.2:8080/%d", in_order + 1);
		if (h.events[i]->l7.type == FE_L7_RESPONSE && http(&h, i)->url &&
		    strcmp(http(&h, i)->url, want) == 0)
			in_order++;
	}
	CHECK_U64("queue growth: 20 responses paired in order", in_order, 20);
	CHECK_U64("queue growth: nothing dropped", l7h_counter(&h, "http.pending_overflow") +
	          l7h_counter(&h, "http.response_unmatched"), 0);
	l7h_free(&h);

	/* nobody reads the headers: not built, the rest as usual */
	setup(&h);
	h.cfg.no_headers = true;
	recreate(&h);
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\nX-Request-Id: 7\r\nAccept: */*\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	CHECK("no_headers: request and response", h.n_events == 2);
	if (h.n_events == 2) {
		CHECK("no_headers: none built", http(&h, 0)->n_headers == 0 && http(&h, 1)->n_headers == 0);
		CHECK_STR("no_headers: url kept", http(&h, 1)->url, "http://h/a");
		CHECK("no_headers: method and code kept", strcmp(http(&h, 0)->method, "GET") == 0 &&
		      http(&h, 1)->code == 200);
	}
	l7h_free(&h);

	/* header bytes bound + redaction */
	setup(&h);
	static const char *redact[] = { "cookie" };
	h.cfg.max_header_bytes = 64;
	h.cfg.redact_headers = redact;
	h.cfg.n_redact_headers = 1;
	recreate(&h);
	feed(&h, C2S, "GET /p HTTP/1.1\r\nCookie: secret=1\r\nA: 1\r\nB: 2\r\n"
	               "X-Long: 0123456789012345678901234567890123456789\r\nZ: 9\r\n\r\n", 1);
	CHECK_U64("header bound: request still reported", h.n_events, 1);
	if (h.n_events == 1) {
		CHECK_STR("redaction", l7h_http_header(h.events[0], "Cookie"), "HUBBLE_REDACTED");
		CHECK_STR("header bound: early headers kept", l7h_http_header(h.events[0], "B"), "2");
		CHECK("header bound: later headers dropped", !l7h_http_header(h.events[0], "Z"));
	}
	CHECK_U64("header bound: counted", l7h_counter(&h, "http.headers_truncated"), 1);
	l7h_free(&h);
}

static void test_midstream_and_bodies(void)
{
	struct l7_harness h;
	setup(&h);
	h.ci.midstream = true;
	recreate(&h);
	feed(&h, S2C, "e rest of some body\r\nmore\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1);
	feed(&h, C2S, "ody bytes GET /not-a-start\r\nGET /real HTTP/1.1\r\nHost: m\r\n\r\n", 2);
	feed(&h, S2C, "HTTP/1.1 204 No Content\r\n\r\n", 3);
	CHECK_U64("midstream: events", h.n_events, 3);
	if (h.n_events == 3) {
		CHECK("midstream: first response unmatched", http(&h, 0)->code == 200 && !http(&h, 0)->url);
		CHECK_STR("midstream: request found", http(&h, 1)->url, "http://m/real");
		CHECK("midstream: paired", http(&h, 2)->code == 204 && http(&h, 2)->url);
	}
	l7h_free(&h);

	/* a large body is streamed, not kept: 64 MiB in 64 KiB segments */
	setup(&h);
	feed(&h, C2S, "GET /big HTTP/1.1\r\nHost: b\r\n\r\n", 1);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n\r\n", 2);
	static char chunk[65536];
	memset(chunk, 'b', sizeof(chunk));
	for (int i = 0; i < 1024; i++)
		l7h_feed(&h, S2C, chunk, sizeof(chunk), 3);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK("big body: complete and in step", h.n_events == 3 && !h.events[2]->l7_info.truncated);
	l7h_free(&h);
}

static void test_extension_methods(void)
{
	struct l7_harness h;
	setup(&h);
	/* within one segment, at the start of one, split after the method */
	feed(&h, C2S, "GET /a HTTP/1.1\r\nHost: h\r\n\r\nBREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi", 1);
	feed(&h, C2S, "CCM_POST /ccm HTTP/1.1\r\nHost: h\r\n\r\n", 2);
	feed(&h, C2S, "\r\nQUERY /q HTTP/1.1\r\nHost: h\r\n\r\n", 3);
	feed(&h, S2C, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n"
	               "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 4);
	CHECK_U64("extension methods: events", h.n_events, 8);
	if (h.n_events == 8) {
		CHECK_STR("extension methods: BREW", http(&h, 1)->method, "BREW");
		CHECK_STR("extension methods: CCM_POST", http(&h, 2)->method, "CCM_POST");
		CHECK_STR("extension methods: QUERY after CRLF", http(&h, 3)->method, "QUERY");
		CHECK("extension methods: response names the method", http(&h, 5)->code == 418 &&
		      strcmp(http(&h, 5)->method, "BREW") == 0);
		CHECK_STR("extension methods: known one after", http(&h, 4)->method, "GET");
	}
	CHECK_U64("extension methods: counted", l7h_counter(&h, "http.extension_method"), 3);
	l7h_free(&h);
}

static void test_probe(void)
{
	struct l7_conn_info ci = { L7_TCP, "198.18.0.1", "198.18.0.2", 40000, 80, false };
	const struct l7_parser_ops *o = &l7_http1_ops;
#define P(s, d) o->probe((const uint8_t *)(s), strlen(s), (d), &ci)
	CHECK("probe: GET request line", P("GET / HTTP/1.1\r\n", C2S) == 100);
	CHECK("probe: WebDAV PROPFIND", P("PROPFIND /d HTTP/1.1\r\n", C2S) == 100);
	CHECK("probe: M-SEARCH", P("M-SEARCH * HTTP/1.1\r\n", C2S) == 100);
	CHECK("probe: request line without version yet", P("POST /upload?x=", C2S) == 70);
	CHECK("probe: status line", P("HTTP/1.1 200 OK\r\n", S2C) == 100);
	CHECK("probe: status line 1.0", P("HTTP/1.0 404 Not Found\r\n", S2C) == 100);
	CHECK("probe: partial method", P("GE", C2S) == 20);
	CHECK("probe: h2 preface is not http/1", P("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", C2S) == 0);
	CHECK("probe: lower-case method", P("get / HTTP/1.1\r\n", C2S) == 0);
	CHECK("probe: binary", P("\x16\x03\x01\x02\x00\x01", C2S) == 0);
	CHECK("probe: unknown word", P("HELLO world\r\n", C2S) == 0);
#undef P
}

/* Payloads of peer-corpus captures, compared with the peers' results. */
static void test_corpus(void)
{
	struct l7_harness h;
	/* DeepFlow http.httpv1: POST /query?1590632942 -> 200 (httpv1.result,
	 * expected-perf.txt: response time 84051 us) */
	setup(&h);
	vec_feed(&h, "tests/unit/data/http/deepflow_httpv1.vec");
	CHECK_U64("corpus deepflow httpv1: request + response", h.n_events, 2);
	if (h.n_events == 2) {
		CHECK_STR("corpus deepflow httpv1: method", http(&h, 0)->method, "POST");
		CHECK_STR("corpus deepflow httpv1: url", http(&h, 0)->url,
		          "http://rq.cct.cloud.duba.net/query?1590632942");
		CHECK_U64("corpus deepflow httpv1: latency", h.events[1]->l7.latency_ns, 84051000);
		CHECK_U64("corpus deepflow httpv1: status", http(&h, 1)->code, 200);
		CHECK_STR("corpus deepflow httpv1: version", http(&h, 1)->protocol, "HTTP/1.1");
	}
	l7h_free(&h);

	/* Zeek http-pipelining: 5 pipelined requests, 5 responses in order
	 * (http.log: www.mozilla.org, all 200) */
	setup(&h);
	vec_feed(&h, "tests/unit/data/http/zeek_pipelining.vec");
	size_t req = 0, resp = 0, paired = 0;
	for (size_t i = 0; i < h.n_events; i++) {
		if (h.events[i]->l7.type == FE_L7_REQUEST)
			req++;
		else {
			resp++;
			paired += http(&h, i)->url != NULL && http(&h, i)->code == 200;
		}
	}
	CHECK("corpus zeek pipelining: 5 requests, 5 responses, all paired 200",
	      req == 5 && resp == 5 && paired == 5);
	if (h.n_events == 10) {
		CHECK_STR("corpus zeek pipelining: first url", http(&h, 0)->url,
		          "http://www.mozilla.org/style/enhanced.css");
	}
	l7h_free(&h);
}

/* Inputs the fuzzer found crashes with (tests/fuzz/corpus/fuzz_http1/regress-*),
 * replayed through the fuzz driver; `make fuzz` replays them under ASan/UBSan. */
static void test_fuzz_regressions(void)
{
	const char *dir = "tests/fuzz/corpus/fuzz_http1";
	DIR *dp = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (dp && (e = readdir(dp))) {
		if (strncmp(e->d_name, "regress-", 8) != 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		static uint8_t buf[1 << 20];
		size_t len = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		fuzz_l7_run(&l7_http1_ops, buf, len);
		char name[600];
		snprintf(name, sizeof(name), "fuzz regression %s", e->d_name);
		CHECK(name, len > 0);
		n++;
	}
	if (dp)
		closedir(dp);
	CHECK("fuzz regressions found", n >= 2);

	/* the two crashes, as plain cases */
	struct l7_harness h;
	setup(&h);
	feed(&h, C2S, "CONNECT \r\nHost: x\r\n\r\n", 1);   /* empty target span */
	CHECK("regress: CONNECT without target is an error, not a request", h.n_events == 0 &&
	      l7h_counter(&h, "http.error.EMPTY_URL") == 1);
	feed(&h, C2S, "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", 2);   /* empty query */
	CHECK("regress: empty query kept", h.n_events == 1 && strcmp(http(&h, 0)->url, "http://h/p?") == 0);
	l7h_free(&h);
}

int main(void)
{
	test_fuzz_regressions();
	test_basic();
	test_pipelining_and_keepalive();
	test_splits();
	test_interim_and_expect();
	test_upgrades();
	test_close_and_http10();
	test_gaps();
	test_errors_and_bounds();
	test_midstream_and_bodies();
	test_extension_methods();
	test_probe();
	test_corpus();
	return CHECK_DONE();
}
