/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_kafka: writes a capture of Kafka traffic for the replay benchmark.
 *
 *   gen_kafka OUT.pcap [CONNECTIONS [EXCHANGES]]     (defaults 120, 150)
 *
 * Deterministic (fixed PRNG seed). Clients 198.18.1.0/24 talk to brokers
 * 198.18.0.11-13:9092 over Ethernet/IPv4/TCP with a handshake, 1448-byte
 * segments, ACKs and FINs. A third of the connections are producers
 * (ApiVersions v3, Metadata v9, Produce v7/v9 with 1-3 topics and 0.2-16 kB
 * of records), the others consumers (Metadata v12 with topic IDs, Fetch
 * v11/v12/v13 with 1-4 topics and 0-64 kB of records per response,
 * OffsetCommit v8, Heartbeat v4). Messages are built with the protocol
 * encodings of tests/unit/kafka_build.h.
 */
#include "../unit/kafka_build.h"
#include "gen_tcp.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kb K;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	return gen_rnd(&rng, n);
}

static const char *const TOPICS[] = { "orders", "payments", "shipments", "clicks",
                                      "audit-log", "inventory.updates" };
#define NT 6
static uint8_t topic_id[NT][16];

static struct gen_out out = { .now_us = 1700000000ull * 1000000 };

/* K holds one message: send it in segments, the peer ACKs. */
static void send_msg(struct gen_tcp *c, int to_server)
{
	gen_tcp_send(&out, c, to_server, K.b, K.n);
	K.n = 0;
}

static void pick_topics(int n, int *out)
{
	for (int i = 0; i < n; i++) {
		int t;
		bool dup;
		do {
			t = (int)rnd(NT);
			dup = false;
			for (int j = 0; j < i; j++)
				dup |= out[j] == t;
		} while (dup);
		out[i] = t;
	}
}

static void produce(struct gen_tcp *c, int32_t corr)
{
	int v = rnd(2) ? 9 : 7, fx = v >= 9, nt = 1 + (int)rnd(3), t[3];
	pick_topics(nt, t);
	kb_req(&K, 0, (int16_t)v, corr, "bench-producer", fx ? 2 : 1);
	kb_str_v(&K, fx, NULL);
	kb_i16(&K, -1);
	kb_i32(&K, 30000);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		kb_str_v(&K, fx, TOPICS[t[i]]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, (int32_t)rnd(12));
		kb_bytes_v(&K, fx, 200 + (int32_t)rnd(16000));
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 1);
	out.now_us += 200 + rnd(3000);
	kb_resp(&K, corr, fx);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		kb_str_v(&K, fx, TOPICS[t[i]]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, rnd(50) ? 0 : 6);
		kb_i64(&K, corr * 10);
		kb_i64(&K, -1);
		kb_i64(&K, 0);
		if (v >= 8) {
			kb_len_v(&K, fx, 0);
			kb_str_v(&K, fx, NULL);
		}
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_i32(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 0);
}

static void fetch(struct gen_tcp *c, int32_t corr)
{
	int v = (int)(11 + rnd(3)), fx = v >= 12, nt = 1 + (int)rnd(4), t[4];
	pick_topics(nt, t);
	kb_req(&K, 1, (int16_t)v, corr, "bench-consumer", fx ? 2 : 1);
	kb_i32(&K, -1);
	kb_i32(&K, 500);
	kb_i32(&K, 1);
	kb_i32(&K, 52428800);
	kb_u8(&K, 0);
	kb_i32(&K, 0);
	kb_i32(&K, -1);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		if (v <= 12)
			kb_str_v(&K, fx, TOPICS[t[i]]);
		else
			kb_uuid(&K, topic_id[t[i]]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i32(&K, -1);
		kb_i64(&K, corr);
		if (v >= 12)
			kb_i32(&K, -1);
		kb_i64(&K, -1);
		kb_i32(&K, 1048576);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_len_v(&K, fx, 0);
	kb_str_v(&K, fx, "");
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 1);
	out.now_us += 1000 + rnd(100000);
	kb_resp(&K, corr, fx);
	kb_i32(&K, 0);
	kb_i16(&K, 0);
	kb_i32(&K, 0);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		if (v <= 12)
			kb_str_v(&K, fx, TOPICS[t[i]]);
		else
			kb_uuid(&K, topic_id[t[i]]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, 0);
		kb_i64(&K, 1000);
		kb_i64(&K, 1000);
		kb_i64(&K, 0);
		kb_len_v(&K, fx, -1);
		kb_i32(&K, -1);
		kb_bytes_v(&K, fx, rnd(4) ? (int32_t)rnd(16384) : 0);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 0);
}

static void metadata(struct gen_tcp *c, int32_t corr, int v)
{
	int fx = v >= 9;
	kb_req(&K, 3, (int16_t)v, corr, "bench-client", fx ? 2 : 1);
	kb_len_v(&K, fx, -1);
	kb_u8(&K, 1);
	if (v <= 10)
		kb_u8(&K, 0);
	kb_u8(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 1);
	out.now_us += 300;
	kb_resp(&K, corr, fx);
	kb_i32(&K, 0);
	kb_len_v(&K, fx, 3);
	for (int b = 0; b < 3; b++) {
		kb_i32(&K, b + 1);
		kb_str_v(&K, fx, "broker.example");
		kb_i32(&K, 9092);
		kb_str_v(&K, fx, NULL);
		kb_tags_v(&K, fx);
	}
	kb_str_v(&K, fx, "bench-cluster");
	kb_i32(&K, 1);
	kb_len_v(&K, fx, NT);
	for (int t = 0; t < NT; t++) {
		kb_i16(&K, 0);
		kb_str_v(&K, fx, TOPICS[t]);
		if (v >= 10)
			kb_uuid(&K, topic_id[t]);
		kb_u8(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_i16(&K, 0);
		kb_i32(&K, 0);
		kb_i32(&K, 1);
		kb_i32(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 1);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 1);
		kb_len_v(&K, fx, 0);
		kb_tags_v(&K, fx);
		kb_i32(&K, 0);
		kb_tags_v(&K, fx);
	}
	if (v <= 10)
		kb_i32(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
	send_msg(c, 0);
}

static void small(struct gen_tcp *c, int32_t corr, int16_t key, int16_t ver)
{
	kb_req(&K, key, ver, corr, "bench-consumer", 2);
	kb_cstr(&K, "bench-group");
	kb_fill(&K, 40, 0);
	kb_end(&K);
	send_msg(c, 1);
	out.now_us += 150;
	kb_resp(&K, corr, 1);
	kb_i32(&K, 0);
	kb_i16(&K, 0);
	kb_fill(&K, 10, 0);
	kb_end(&K);
	send_msg(c, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: gen_kafka OUT.pcap [CONNECTIONS [EXCHANGES]]\n");
		return 2;
	}
	int conns = argc > 2 ? atoi(argv[2]) : 120, ex = argc > 3 ? atoi(argv[3]) : 150;
	if (conns < 1 || conns > 60000 || ex < 1 || ex > 100000) {
		fprintf(stderr, "gen_kafka: bad counts\n");
		return 2;
	}
	for (int t = 0; t < NT; t++)
		for (int i = 0; i < 16; i++)
			topic_id[t][i] = (uint8_t)(t * 31 + i * 7 + 1);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	out.dumper = p ? pcap_dump_open(p, argv[1]) : NULL;
	if (!out.dumper) {
		fprintf(stderr, "gen_kafka: %s: %s\n", argv[1], p ? pcap_geterr(p) : "pcap");
		return 1;
	}
	uint64_t requests = 0;
	for (int i = 0; i < conns; i++) {
		struct gen_tcp c = {
			.cip = htonl(0xc6120100u | (uint32_t)(i % 250 + 2)),
			.sip = htonl(0xc612000bu + (uint32_t)(i % 3)),
			.cport = (uint16_t)(30000 + i), .sport = 9092,
			.cseq = rnd(1u << 30), .sseq = rnd(1u << 30),
		};
		gen_tcp_open(&out, &c);
		bool producer = i % 3 == 0;
		int32_t corr = 1;
		metadata(&c, corr++, producer ? 9 : 12);
		requests++;
		for (int e = 0; e < ex; e++, requests++) {
			if (producer)
				produce(&c, corr++);
			else if (e % 20 == 19)
				small(&c, corr++, 8, 8);        /* offset commit */
			else if (e % 10 == 9)
				small(&c, corr++, 12, 4);       /* heartbeat */
			else
				fetch(&c, corr++);
		}
		gen_tcp_close(&out, &c);
	}
	pcap_dump_close(out.dumper);
	pcap_close(p);
	printf("%s: %d connections, %llu requests, %llu responses, %.1f MB\n", argv[1], conns,
	       (unsigned long long)requests, (unsigned long long)requests, out.bytes / 1e6);
	return 0;
}
