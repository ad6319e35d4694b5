/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the capture generators of the replay benchmarks share: a
 * deterministic PRNG and Ethernet/IPv4/TCP frames with valid checksums,
 * written with libpcap, for connections with a handshake, 1448-byte
 * segments that the peer ACKs every other one, and a FIN exchange.
 * Client MAC 02:00:00:00:00:01, server 02:00:00:00:00:02.
 */
#ifndef FLOWD_BENCH_GEN_TCP_H
#define FLOWD_BENCH_GEN_TCP_H

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <string.h>

#define GEN_MSS 1448

/* xorshift64: the same sequence on every run */
static inline uint32_t gen_rnd(uint64_t *state, uint32_t n)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)(*state % n);
}

struct gen_out {
	pcap_dumper_t *dumper;
	uint64_t now_us;     /* the next frame's time; each frame adds 3 us */
	uint64_t bytes;      /* frame bytes written */
};

struct gen_tcp {
	uint32_t cip, sip;   /* network order */
	uint16_t cport, sport;
	uint32_t cseq, sseq; /* next sequence number of each side */
};

static inline uint16_t gen_csum(const uint8_t *b, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void gen_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One frame of c (len <= GEN_MSS), from the client when to_server. */
static inline void gen_tcp_packet(struct gen_out *o, const struct gen_tcp *c, int to_server,
                                  uint8_t flags, const uint8_t *data, size_t len)
{
	uint8_t f[54 + GEN_MSS];
	uint32_t src = to_server ? c->cip : c->sip, dst = to_server ? c->sip : c->cip;
	uint32_t seq = htonl(to_server ? c->cseq : c->sseq), ack = htonl(to_server ? c->sseq : c->cseq);
	memset(f, 0, 54);
	memcpy(f, to_server ? "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" :
	                      "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *tcp = f + 34;
	ip[0] = 0x45;
	gen_put16(ip + 2, (uint32_t)(40 + len));
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	gen_put16(ip + 10, gen_csum(ip, 20, 0));
	gen_put16(tcp, to_server ? c->cport : c->sport);
	gen_put16(tcp + 2, to_server ? c->sport : c->cport);
	memcpy(tcp + 4, &seq, 4);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 0x50;
	tcp[13] = flags;
	tcp[14] = tcp[15] = 0xff;
	if (len)
		memcpy(tcp + 20, data, len);
	/* the pseudo header: addresses, protocol, TCP length */
	uint32_t sum = 6 + (uint32_t)(20 + len);
	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	gen_put16(tcp + 16, gen_csum(tcp, 20 + len, sum));
	struct pcap_pkthdr h = { .caplen = (bpf_u_int32)(54 + len), .len = (bpf_u_int32)(54 + len) };
	h.ts.tv_sec = (time_t)(o->now_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(o->now_us % 1000000);
	pcap_dump((u_char *)o->dumper, &h, f);
	o->bytes += 54 + len;
	o->now_us += 3;
}

/* n bytes in segments; the peer ACKs every other one and the last. */
static inline void gen_tcp_send(struct gen_out *o, struct gen_tcp *c, int to_server,
                                const uint8_t *d, size_t n)
{
	for (size_t off = 0; off < n; off += GEN_MSS) {
		size_t k = n - off < GEN_MSS ? n - off : GEN_MSS;
		gen_tcp_packet(o, c, to_server, 0x18, d + off, k);
		if (to_server)
			c->cseq += (uint32_t)k;
		else
			c->sseq += (uint32_t)k;
		if ((off / GEN_MSS) % 2 == 1 || off + k == n)
			gen_tcp_packet(o, c, !to_server, 0x10, NULL, 0);
	}
}

/* SYN, SYN-ACK, ACK */
static inline void gen_tcp_open(struct gen_out *o, struct gen_tcp *c)
{
	gen_tcp_packet(o, c, 1, 0x02, NULL, 0);
	c->cseq++;
	gen_tcp_packet(o, c, 0, 0x12, NULL, 0);
	c->sseq++;
	gen_tcp_packet(o, c, 1, 0x10, NULL, 0);
}

/* FIN-ACK from the client, FIN-ACK from the server, ACK */
static inline void gen_tcp_close(struct gen_out *o, struct gen_tcp *c)
{
	gen_tcp_packet(o, c, 1, 0x11, NULL, 0);
	c->cseq++;
	gen_tcp_packet(o, c, 0, 0x11, NULL, 0);
	c->sseq++;
	gen_tcp_packet(o, c, 1, 0x10, NULL, 0);
}

#endif /* FLOWD_BENCH_GEN_TCP_H */
