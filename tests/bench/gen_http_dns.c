/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_http_dns: writes a capture of HTTP/1.1 and DNS traffic for the replay
 * benchmark (tests/bench/bench_replay.sh).
 *
 *   gen_http_dns OUT.pcap [SESSIONS]       (default 25000, ~500k packets)
 *
 * Deterministic (fixed PRNG seed). Each session: a client (198.18.1-4.x)
 * resolves svcN.bench.test over UDP (198.18.0.53), then opens a TCP
 * connection to 198.18.0.80:80 and makes 1-4 keep-alive requests (GET or
 * POST with a small body, a few common headers) answered with 200, 404 or
 * 500 and a 100 B - 9 kB body in 1448-byte segments, ACKed every other
 * segment, then closes with FIN/ACK. Sessions start 200 us apart and
 * overlap a little, so connections interleave as on a busy server.
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct out {
	FILE *f;
	uint64_t packets, bytes;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint16_t ip_csum(const uint8_t *h)
{
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One Ethernet/IPv4 frame with a TCP or UDP header and payload. */
static void frame(struct out *o, uint64_t ts_us, uint32_t src, uint32_t dst, uint8_t proto,
                  uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                  const void *payload, size_t plen)
{
	uint8_t b[1600];
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8, len = 14 + 20 + l4 + plen;
	memset(b, 0, 14 + 20 + l4);
	static const uint8_t mac_c[6] = { 2, 0, 0, 0, 0, 1 }, mac_s[6] = { 2, 0, 0, 0, 0, 2 };
	bool from_client = (src >> 8) != (198u << 16 | 18u << 8 | 0);
	memcpy(b, from_client ? mac_s : mac_c, 6);
	memcpy(b + 6, from_client ? mac_c : mac_s, 6);
	put16(b + 12, 0x0800);
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4 + plen));
	put16(ip + 4, (uint16_t)o->packets);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, ip_csum(ip));
	uint8_t *t = ip + 20;
	put16(t, sport);
	put16(t + 2, dport);
	if (proto == IPPROTO_TCP) {
		put32(t + 4, seq);
		put32(t + 8, ack);
		t[12] = 5 << 4;
		t[13] = flags;
		put16(t + 14, 64240);
	} else {
		put16(t + 4, (uint16_t)(8 + plen));
	}
	memcpy(t + l4, payload, plen);
	struct { uint32_t sec, usec, caplen, len; } h = {
		(uint32_t)(ts_us / 1000000), (uint32_t)(ts_us % 1000000), (uint32_t)len, (uint32_t)len
	};
	fwrite(&h, sizeof(h), 1, o->f);
	fwrite(b, 1, len, o->f);
	o->packets++;
	o->bytes += len;
}

enum { FIN = 1, SYN = 2, PSH = 8, ACK = 16 };

static size_t dns_msg(uint8_t *m, uint16_t id, bool resp, const char *name, uint32_t ip1, int n_ans)
{
	size_t k = 0;
	put16(m, id);
	put16(m + 2, resp ? 0x8180 : 0x0100);
	put16(m + 4, 1);
	put16(m + 6, resp ? (uint16_t)n_ans : 0);
	memset(m + 8, 0, 4);
	k = 12;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		m[k++] = (uint8_t)l;
		memcpy(m + k, p, l);
		k += l;
		p += l + (dot ? 1 : 0);
	}
	m[k++] = 0;
	put16(m + k, 1);
	put16(m + k + 2, 1);
	k += 4;
	for (int i = 0; resp && i < n_ans; i++) {
		put16(m + k, 0xc00c);
		put16(m + k + 2, 1);
		put16(m + k + 4, 1);
		put32(m + k + 6, 300);
		put16(m + k + 10, 4);
		put32(m + k + 12, ip1 + (uint32_t)i);
		k += 16;
	}
	return k;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: gen_http_dns OUT.pcap [SESSIONS]\n");
		return 2;
	}
	long sessions = argc > 2 ? atol(argv[2]) : 25000;
	struct out o = { .f = fopen(argv[1], "wb") };
	if (!o.f) {
		perror(argv[1]);
		return 1;
	}
	struct { uint32_t magic; uint16_t maj, min; int32_t zone; uint32_t sig, snap, lt; } fh =
		{ 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 };
	fwrite(&fh, sizeof(fh), 1, o.f);

	static const char *const paths[] = { "/api/v1/items", "/api/v1/orders", "/static/app.js",
	                                     "/healthz", "/api/v1/users/search" };
	static const char *const agents[] = { "curl/7.88.1", "python-requests/2.28.1",
	                                      "Go-http-client/1.1" };
	uint8_t body[9216], msg[2048];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)('a' + i % 26);
	const uint32_t dns_srv = 198u << 24 | 18u << 16 | 0u << 8 | 53, web = 198u << 24 | 18u << 16 | 80;
	uint64_t t0 = 1700000000ull * 1000000;

	for (long s = 0; s < sessions; s++) {
		uint64_t ts = t0 + (uint64_t)s * 200;
		/* 1000 client addresses; each uses its next port: no 4-tuple reused */
		uint32_t cli = 198u << 24 | 18u << 16 | (1u + (uint32_t)(s / 250 % 4)) << 8 |
		               (uint32_t)(1 + s % 250);
		uint16_t cport = (uint16_t)(20000 + 2 * (s / 1000 % 20000));
		char name[64];
		snprintf(name, sizeof(name), "svc%ld.bench.test", s % 500);
		uint16_t id = (uint16_t)rnd(65536);
		size_t n = dns_msg(msg, id, false, name, 0, 0);
		frame(&o, ts, cli, dns_srv, IPPROTO_UDP, (uint16_t)(cport + 1), 53, 0, 0, 0, msg, n);
		n = dns_msg(msg, id, true, name, web, 1 + (int)rnd(2));
		frame(&o, ts += 40, dns_srv, cli, IPPROTO_UDP, 53, (uint16_t)(cport + 1), 0, 0, 0, msg, n);

		uint32_t cs = rnd(1u << 31), ss = rnd(1u << 31);
		frame(&o, ts += 30, cli, web, IPPROTO_TCP, cport, 80, cs, 0, SYN, NULL, 0);
		frame(&o, ts += 30, web, cli, IPPROTO_TCP, 80, cport, ss, cs + 1, SYN | ACK, NULL, 0);
		cs++;
		ss++;
		frame(&o, ts += 30, cli, web, IPPROTO_TCP, cport, 80, cs, ss, ACK, NULL, 0);
		int reqs = 1 + (int)rnd(4);
		for (int r = 0; r < reqs; r++) {
			bool post = rnd(4) == 0;
			int len = snprintf((char *)msg, sizeof(msg),
				"%s %s?id=%ld&page=%d HTTP/1.1\r\nHost: web.bench.test\r\nUser-Agent: %s\r\n"
				"Accept: */*\r\nX-Request-Id: %08x-%04x\r\n%s\r\n%s",
				post ? "POST" : "GET", paths[rnd(5)], s, r, agents[rnd(3)], rnd(1u << 31),
				rnd(65536), post ? "Content-Type: application/json\r\nContent-Length: 27\r\n" : "",
				post ? "{\"name\":\"widget\",\"qty\":42}\n" : "");
			frame(&o, ts += 20, cli, web, IPPROTO_TCP, cport, 80, cs, ss, PSH | ACK, msg, (size_t)len);
			cs += (uint32_t)len;
			uint32_t code_r = rnd(10);
			int code = code_r < 8 ? 200 : code_r < 9 ? 404 : 500;
			size_t blen = 100 + rnd(9000);
			int hl = snprintf((char *)msg, sizeof(msg),
				"HTTP/1.1 %d %s\r\nServer: nginx\r\nContent-Type: application/json\r\n"
				"Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
				code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Internal Server Error", blen);
			/* headers and body in 1448-byte segments */
			size_t total = (size_t)hl + blen, sent = 0;
			int segs = 0;
			while (sent < total) {
				size_t chunk = total - sent > 1448 ? 1448 : total - sent;
				uint8_t seg[1448];
				for (size_t k = 0; k < chunk; k++) {
					size_t at = sent + k;
					seg[k] = at < (size_t)hl ? msg[at] : body[at - (size_t)hl];
				}
				frame(&o, ts += 15, web, cli, IPPROTO_TCP, 80, cport, ss, cs,
				      (sent + chunk == total ? PSH : 0) | ACK, seg, chunk);
				ss += (uint32_t)chunk;
				sent += chunk;
				if (++segs % 2 == 0 || sent == total)
					frame(&o, ts += 10, cli, web, IPPROTO_TCP, cport, 80, cs, ss, ACK, NULL, 0);
			}
		}
		frame(&o, ts += 30, cli, web, IPPROTO_TCP, cport, 80, cs, ss, FIN | ACK, NULL, 0);
		frame(&o, ts += 30, web, cli, IPPROTO_TCP, 80, cport, ss, cs + 1, FIN | ACK, NULL, 0);
		frame(&o, ts += 30, cli, web, IPPROTO_TCP, cport, 80, cs + 1, ss + 1, ACK, NULL, 0);
	}
	if (fclose(o.f) != 0) {
		perror(argv[1]);
		return 1;
	}
	fprintf(stderr, "gen_http_dns: %s: %ld sessions, %llu packets, %.1f MB\n", argv[1], sessions,
	        (unsigned long long)o.packets, o.bytes / 1e6);
	return 0;
}
