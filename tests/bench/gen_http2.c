/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_http2: writes a capture of HTTP/2 traffic for the replay benchmark.
 *
 *   gen_http2 OUT.pcap [CONNECTIONS [EXCHANGES]]     (defaults 100, 40)
 *
 * Deterministic (fixed PRNG seed). Clients 198.18.1.0/24 talk h2c (prior
 * knowledge) to 198.18.0.2:8080 over Ethernet/IPv4/TCP with a handshake,
 * 1448-byte segments and ACKs; connections are interleaved. Each exchange
 * sends 1-8 concurrent streams, then their responses in another order: 60%
 * browser-like GETs (varying paths, cookies; 200/304/404, 0.2-24 kB bodies in
 * DATA frames of up to 16 kB), 40% gRPC unary calls (0.1-4 kB messages,
 * trailers with grpc-status). Header blocks come from nghttp2's HPACK
 * encoder (tests/unit/h2_build.h), so the dynamic table is in real use.
 */
#include "../unit/h2_build.h"
#include "gen_tcp.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	return gen_rnd(&rng, n);
}

struct tcpconn {
	struct gen_tcp t;
	nghttp2_hd_deflater *cdef, *sdef;
	uint32_t next_sid;
};

static struct gen_out out = { .now_us = 1700000000ull * 1000000 };

/* Send b in segments; the peer ACKs. */
static void send_bytes(struct tcpconn *c, int to_server, struct h2b *b)
{
	gen_tcp_send(&out, &c->t, to_server, b->p, b->len);
	h2b_reset(b);
}

static void handshake(struct tcpconn *c)
{
	gen_tcp_open(&out, &c->t);
	struct h2b b = { 0 };
	h2b_put(&b, H2B_PREFACE, 24);
	uint16_t ids[2] = { 3, 4 };
	uint32_t vals[2] = { 100, 1 << 20 };
	h2b_settings(&b, ids, vals, 2);
	send_bytes(c, 1, &b);
	h2b_settings(&b, ids, vals, 1);
	h2b_frame(&b, 4, 1, 0, NULL, 0);
	send_bytes(c, 0, &b);
	h2b_frame(&b, 4, 1, 0, NULL, 0);
	send_bytes(c, 1, &b);
	h2b_free(&b);
}

static const char *const PAGES[] = { "/", "/index.html", "/static/app.js", "/static/style.css",
                                     "/api/v1/items", "/api/v1/items/42", "/img/logo.png", "/search" };
static const char *const METHODS[] = { "/shop.Cart/GetCart", "/shop.Cart/AddItem",
                                       "/shop.Catalog/ListProducts", "/shop.Payment/Charge" };
static uint8_t body[65536];

static void data_frames(struct h2b *b, uint32_t sid, size_t n, bool end)
{
	do {
		size_t k = n > 16384 ? 16384 : n;
		h2b_frame(b, 0, (uint8_t)(end && k == n ? 1 : 0), sid, body, k);
		n -= k;
	} while (n);
}

static void exchange(struct tcpconn *c)
{
	struct h2b req = { 0 }, resp = { 0 };
	uint32_t n = 1 + rnd(8), sids[8];
	bool grpc[8];
	char path[8][96], cookie[64], ua[64];
	snprintf(cookie, sizeof(cookie), "session=%08x; theme=dark", rnd(1u << 31));
	snprintf(ua, sizeof(ua), "Mozilla/5.0 (bench) rev/%u", rnd(3));
	for (uint32_t i = 0; i < n; i++) {
		sids[i] = c->next_sid;
		c->next_sid += 2;
		grpc[i] = rnd(10) < 4;
		if (grpc[i]) {
			snprintf(path[i], sizeof(path[i]), "%s", METHODS[rnd(4)]);
			nghttp2_nv nv[] = {
				H2NV(":method", "POST"), H2NV(":scheme", "http"), { (uint8_t *)":path", (uint8_t *)path[i], 5, strlen(path[i]), 0 },
				H2NV(":authority", "shop.internal:8080"), H2NV("content-type", "application/grpc"),
				H2NV("te", "trailers"), H2NV("grpc-timeout", "1S"), H2NV("user-agent", "grpc-go/1.60.0"),
			};
			h2b_headers(&req, c->cdef, sids[i], false, nv, 8, 0);
			size_t m = 100 + rnd(4000);
			uint8_t pre[5] = { 0, 0, 0, (uint8_t)(m >> 8), (uint8_t)m };
			struct h2b d = { 0 };
			h2b_put(&d, pre, 5);
			h2b_put(&d, body, m);
			h2b_frame(&req, 0, 1, sids[i], d.p, d.len);
			h2b_free(&d);
		} else {
			snprintf(path[i], sizeof(path[i]), "%s?q=%u", PAGES[rnd(8)], rnd(50));
			nghttp2_nv nv[] = {
				H2NV(":method", "GET"), H2NV(":scheme", "http"), { (uint8_t *)":path", (uint8_t *)path[i], 5, strlen(path[i]), 0 },
				H2NV(":authority", "shop.example:8080"), H2NV("accept", "text/html,application/json;q=0.9,*/*;q=0.8"),
				H2NV("accept-encoding", "gzip, deflate, br"), H2NV("accept-language", "en-US,en;q=0.5"),
				{ (uint8_t *)"user-agent", (uint8_t *)ua, 10, strlen(ua), 0 },
				{ (uint8_t *)"cookie", (uint8_t *)cookie, 6, strlen(cookie), 0 },
			};
			h2b_headers(&req, c->cdef, sids[i], true, nv, 9, 0);
		}
	}
	send_bytes(c, 1, &req);
	out.now_us += 100 + rnd(2000);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = (k + n / 2) % n;
		if (grpc[i]) {
			nghttp2_nv rh[] = { H2NV(":status", "200"), H2NV("content-type", "application/grpc") };
			h2b_headers(&resp, c->sdef, sids[i], false, rh, 2, 0);
			size_t m = 50 + rnd(2000);
			uint8_t pre[5] = { 0, 0, 0, (uint8_t)(m >> 8), (uint8_t)m };
			struct h2b d = { 0 };
			h2b_put(&d, pre, 5);
			h2b_put(&d, body, m);
			h2b_frame(&resp, 0, 0, sids[i], d.p, d.len);
			h2b_free(&d);
			const char *st = rnd(20) ? "0" : "5";
			nghttp2_nv tr[] = { { (uint8_t *)"grpc-status", (uint8_t *)st, 11, 1, 0 } };
			h2b_headers(&resp, c->sdef, sids[i], true, tr, 1, 0);
		} else {
			const char *code = rnd(10) < 8 ? "200" : rnd(2) ? "304" : "404";
			size_t len = code[0] == '2' ? 200 + rnd(24000) : 0;
			char cl[16], etag[24];
			snprintf(cl, sizeof(cl), "%zu", len);
			snprintf(etag, sizeof(etag), "\"%08x\"", rnd(1u << 30));
			nghttp2_nv rh[] = {
				{ (uint8_t *)":status", (uint8_t *)code, 7, 3, 0 }, H2NV("content-type", "text/html; charset=utf-8"),
				{ (uint8_t *)"content-length", (uint8_t *)cl, 14, strlen(cl), 0 },
				{ (uint8_t *)"etag", (uint8_t *)etag, 4, strlen(etag), 0 },
				H2NV("cache-control", "max-age=60"), H2NV("server", "bench/1.0"),
			};
			h2b_headers(&resp, c->sdef, sids[i], len == 0, rh, 6, 0);
			if (len)
				data_frames(&resp, sids[i], len, true);
		}
	}
	send_bytes(c, 0, &resp);
	h2b_free(&req);
	h2b_free(&resp);
	out.now_us += 50 + rnd(500);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen_http2 OUT.pcap [CONNECTIONS [EXCHANGES]]\n");
		return 2;
	}
	int nconn = argc > 2 ? atoi(argv[2]) : 100, nex = argc > 3 ? atoi(argv[3]) : 40;
	if (nconn < 1 || nconn > 250 || nex < 1)
		return 2;
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	out.dumper = pcap_dump_open(p, argv[1]);
	if (!out.dumper) {
		fprintf(stderr, "gen_http2: %s\n", pcap_geterr(p));
		return 1;
	}
	memset(body, 'b', sizeof(body));
	struct tcpconn *cs = calloc((size_t)nconn, sizeof(*cs));
	for (int i = 0; i < nconn; i++) {
		cs[i] = (struct tcpconn){ { htonl(0xc6120100u + 1 + (uint32_t)i), htonl(0xc6120002u),
		                            (uint16_t)(40000 + i), 8080, 1000u * (uint32_t)i, 7000u * (uint32_t)i },
		                          NULL, NULL, 1 };
		nghttp2_hd_deflate_new(&cs[i].cdef, 4096);
		nghttp2_hd_deflate_new(&cs[i].sdef, 4096);
		handshake(&cs[i]);
	}
	for (int e = 0; e < nex; e++)
		for (int i = 0; i < nconn; i++)
			exchange(&cs[i]);
	for (int i = 0; i < nconn; i++) {
		gen_tcp_close(&out, &cs[i].t);
		nghttp2_hd_deflate_del(cs[i].cdef);
		nghttp2_hd_deflate_del(cs[i].sdef);
	}
	pcap_dump_close(out.dumper);
	pcap_close(p);
	free(cs);
	return 0;
}
