/* Kafka parser through the parser harness: messages built byte by byte
 * after the protocol guide, exact field values across API versions,
 * classic and flexible encodings, topic IDs, unknown keys and versions,
 * segmentation, pipelining, gaps and resynchronisation. */
#include "check.h"
#include "kafka_build.h"
#include "l7_harness.h"
#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct l7_parser_ops l7_kafka_ops;

static struct kb K;             /* one message stream under construction */
static struct l7_harness H;
static char name[256];

#define T(...) (snprintf(name, sizeof(name), __VA_ARGS__), name)

static void start(void)
{
	l7h_free(&H);
	l7h_init(&H, &l7_kafka_ops, L7_TCP, "198.18.0.2", 40100, "198.18.0.1", 9092);
	K.n = 0;
}

static void feed(enum l7_dir dir, uint64_t ts)
{
	l7h_feed(&H, dir, K.b, K.n, ts);
	K.n = 0;
}

static const struct fe_kafka *kev(size_t i)
{
	if (i >= H.n_events || H.events[i]->l7.kind != FE_L7K_KAFKA)
		return NULL;
	return &H.events[i]->l7.kafka;
}

/* Checks one event's Kafka fields. */
static void expect(const char *what, size_t i, enum fe_l7_type type, const char *api_key,
                   int api_version, int corr, const char *topic, int error)
{
	const struct fe_kafka *k = kev(i);
	CHECK(T("%s: event %zu exists", what, i), k != NULL);
	if (!k)
		return;
	CHECK(T("%s: event %zu type", what, i), H.events[i]->l7.type == type);
	CHECK_STR(T("%s: event %zu api_key", what, i), k->api_key, api_key);
	CHECK_U64(T("%s: event %zu api_version", what, i), (uint64_t)k->api_version, (uint64_t)api_version);
	CHECK_U64(T("%s: event %zu correlation_id", what, i), (uint64_t)k->correlation_id, (uint64_t)corr);
	CHECK_STR(T("%s: event %zu topic", what, i), k->topic, topic);
	CHECK_U64(T("%s: event %zu error_code", what, i), (uint64_t)(int64_t)k->error_code,
	          (uint64_t)(int64_t)error);
}

/* --- message builders (per API, any version) ------------------------------ */

static void produce_req(int v, int32_t corr, const char *const *topics, int nt, int16_t acks,
                        int32_t record_bytes)
{
	int fx = v >= 9;
	kb_req(&K, 0, (int16_t)v, corr, "producer-1", fx ? 2 : 1);
	if (v >= 3)
		kb_str_v(&K, fx, NULL);         /* transactional_id */
	kb_i16(&K, acks);
	kb_i32(&K, 1500);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		kb_str_v(&K, fx, topics[i]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_bytes_v(&K, fx, record_bytes);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_tags_v(&K, fx);
	kb_end(&K);
}

static void produce_resp(int v, int32_t corr, const char *const *topics, int nt,
                         const int16_t *errors)
{
	int fx = v >= 9;
	kb_resp(&K, corr, fx);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		kb_str_v(&K, fx, topics[i]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, errors ? errors[i] : 0);
		kb_i64(&K, 42);
		if (v >= 2)
			kb_i64(&K, -1);
		if (v >= 5)
			kb_i64(&K, 0);
		if (v >= 8) {
			kb_len_v(&K, fx, 0);    /* record_errors */
			kb_str_v(&K, fx, NULL); /* error_message */
		}
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	if (v >= 1)
		kb_i32(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
}

static void fetch_req(int v, int32_t corr, const char *const *topics, const uint8_t (*ids)[16],
                      int nt)
{
	int fx = v >= 12;
	kb_req(&K, 1, (int16_t)v, corr, "consumer-1", fx ? 2 : 1);
	if (v <= 14)
		kb_i32(&K, -1);
	kb_i32(&K, 500);
	kb_i32(&K, 1);
	if (v >= 3)
		kb_i32(&K, 52428800);
	if (v >= 4)
		kb_u8(&K, 0);
	if (v >= 7) {
		kb_i32(&K, 0);
		kb_i32(&K, -1);
	}
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		if (v <= 12)
			kb_str_v(&K, fx, topics[i]);
		else
			kb_uuid(&K, ids[i]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		if (v >= 9)
			kb_i32(&K, -1);
		kb_i64(&K, 17);
		if (v >= 12)
			kb_i32(&K, -1);
		if (v >= 5)
			kb_i64(&K, -1);
		kb_i32(&K, 1048576);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	if (v >= 7)
		kb_len_v(&K, fx, 0);            /* forgotten_topics_data */
	if (v >= 11)
		kb_str_v(&K, fx, "");           /* rack_id */
	kb_tags_v(&K, fx);
	kb_end(&K);
}

static void fetch_resp(int v, int32_t corr, const char *const *topics, const uint8_t (*ids)[16],
                       int nt, int16_t top_error, int16_t part_error, int32_t record_bytes)
{
	int fx = v >= 12;
	kb_resp(&K, corr, fx);
	if (v >= 1)
		kb_i32(&K, 0);
	if (v >= 7) {
		kb_i16(&K, top_error);
		kb_i32(&K, 0);
	}
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		if (v <= 12)
			kb_str_v(&K, fx, topics[i]);
		else
			kb_uuid(&K, ids[i]);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, part_error);
		kb_i64(&K, 100);
		if (v >= 4)
			kb_i64(&K, 100);
		if (v >= 5)
			kb_i64(&K, 0);
		if (v >= 4)
			kb_len_v(&K, fx, -1);   /* aborted_transactions: null */
		if (v >= 11)
			kb_i32(&K, -1);
		kb_bytes_v(&K, fx, record_bytes);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
	}
	kb_tags_v(&K, fx);
	kb_end(&K);
}

/* topics == NULL: all topics (v0: empty array, v1+: null) */
static void metadata_req(int v, int32_t corr, const char *const *topics, int nt)
{
	int fx = v >= 9;
	kb_req(&K, 3, (int16_t)v, corr, "admin-1", fx ? 2 : 1);
	if (!topics) {
		kb_len_v(&K, fx, v == 0 ? 0 : -1);
	} else {
		kb_len_v(&K, fx, nt);
		for (int i = 0; i < nt; i++) {
			if (v >= 10) {
				uint8_t zero[16] = { 0 };
				kb_uuid(&K, zero);
			}
			kb_str_v(&K, fx, topics[i]);
			kb_tags_v(&K, fx);
		}
	}
	if (v >= 4)
		kb_u8(&K, 1);
	if (v >= 8 && v <= 10)
		kb_u8(&K, 0);
	if (v >= 8)
		kb_u8(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
}

static void metadata_resp(int v, int32_t corr, const char *const *topics,
                          const uint8_t (*ids)[16], int nt, const int16_t *errors)
{
	int fx = v >= 9;
	kb_resp(&K, corr, fx);
	if (v >= 3)
		kb_i32(&K, 0);
	kb_len_v(&K, fx, 1);                    /* brokers */
	kb_i32(&K, 1);
	kb_str_v(&K, fx, "198.18.0.1");
	kb_i32(&K, 9092);
	if (v >= 1)
		kb_str_v(&K, fx, NULL);
	kb_tags_v(&K, fx);
	if (v >= 2)
		kb_str_v(&K, fx, "cluster-a");
	if (v >= 1)
		kb_i32(&K, 1);
	kb_len_v(&K, fx, nt);
	for (int i = 0; i < nt; i++) {
		kb_i16(&K, errors ? errors[i] : 0);
		kb_str_v(&K, fx, topics[i]);
		if (v >= 10)
			kb_uuid(&K, ids[i]);
		if (v >= 1)
			kb_u8(&K, 0);
		kb_len_v(&K, fx, 1);            /* partitions */
		kb_i16(&K, 0);
		kb_i32(&K, 0);
		kb_i32(&K, 1);
		if (v >= 7)
			kb_i32(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 1);
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 1);
		if (v >= 5)
			kb_len_v(&K, fx, 0);
		kb_tags_v(&K, fx);
		if (v >= 8)
			kb_i32(&K, 0);
		kb_tags_v(&K, fx);
	}
	if (v >= 8 && v <= 10)
		kb_i32(&K, 0);
	kb_tags_v(&K, fx);
	kb_end(&K);
}

/* --- tests ------------------------------------------------------------------ */

static const char *const T1[] = { "orders" };
static const char *const T2[] = { "orders", "payments" };

static void test_produce_versions(void)
{
	static const int versions[] = { 0, 1, 2, 3, 5, 7, 8, 9, 10, 11 };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		int v = versions[i];
		start();
		produce_req(v, 7, T1, 1, 1, 300);
		feed(L7_DIR_TO_SERVER, 1000);
		int16_t err[] = { 0 };
		produce_resp(v, 7, T1, 1, err);
		feed(L7_DIR_TO_CLIENT, 4000);
		char what[32];
		snprintf(what, sizeof(what), "produce v%d", v);
		CHECK_U64(T("%s: 2 events", what), H.n_events, 2);
		expect(what, 0, FE_L7_REQUEST, "produce", v, 7, "orders", 0);
		expect(what, 1, FE_L7_RESPONSE, "produce", v, 7, "orders", 0);
		if (H.n_events == 2) {
			CHECK_U64(T("%s: latency", what), H.events[1]->l7.latency_ns, 3000);
			CHECK_STR(T("%s: client_id", what), H.events[0]->l7.kafka.client_id, "producer-1");
			CHECK(T("%s: request direction", what),
			      strcmp(H.events[0]->ip_src, "198.18.0.2") == 0 && H.events[0]->dport == 9092);
		}
		CHECK_U64(T("%s: no malformed", what), l7h_counter(&H, "kafka.malformed"), 0);
	}
}

static void test_produce_multi_topic_error(void)
{
	static const int versions[] = { 3, 9 };
	for (size_t i = 0; i < 2; i++) {
		int v = versions[i];
		start();
		produce_req(v, 11, T2, 2, -1, 5000);
		feed(L7_DIR_TO_SERVER, 10);
		int16_t err[] = { 0, 6 };       /* NOT_LEADER_OR_FOLLOWER on the 2nd topic */
		produce_resp(v, 11, T2, 2, err);
		feed(L7_DIR_TO_CLIENT, 20);
		char what[32];
		snprintf(what, sizeof(what), "produce 2 topics v%d", v);
		expect(what, 0, FE_L7_REQUEST, "produce", v, 11, "orders,payments", 0);
		expect(what, 1, FE_L7_RESPONSE, "produce", v, 11, "orders,payments", 6);
	}
}

static void test_produce_acks0(void)
{
	start();
	produce_req(3, 1, T1, 1, 0, 10);        /* acks=0: no response */
	produce_req(3, 2, T1, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 10);
	produce_resp(3, 2, T1, 1, NULL);
	feed(L7_DIR_TO_CLIENT, 30);
	l7h_close(&H, L7_DIR_TO_SERVER, 40);
	l7h_close(&H, L7_DIR_TO_CLIENT, 40);
	CHECK_U64("acks=0: 3 events", H.n_events, 3);
	expect("acks=0", 0, FE_L7_REQUEST, "produce", 3, 1, "orders", 0);
	expect("acks=0", 1, FE_L7_REQUEST, "produce", 3, 2, "orders", 0);
	expect("acks=0", 2, FE_L7_RESPONSE, "produce", 3, 2, "orders", 0);
	CHECK_U64("acks=0: nothing unanswered", l7h_counter(&H, "kafka.unanswered"), 0);
}

static void test_fetch_versions(void)
{
	static const int versions[] = { 0, 1, 4, 7, 11, 12 };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		int v = versions[i];
		start();
		fetch_req(v, 1000 + v, T2, NULL, 2);
		feed(L7_DIR_TO_SERVER, 100);
		fetch_resp(v, 1000 + v, T2, NULL, 2, 0, v == 0 ? 1 : 0, 2000);
		feed(L7_DIR_TO_CLIENT, 500100);
		char what[32];
		snprintf(what, sizeof(what), "fetch v%d", v);
		CHECK_U64(T("%s: 2 events", what), H.n_events, 2);
		expect(what, 0, FE_L7_REQUEST, "fetch", v, 1000 + v, "orders,payments", 0);
		/* v0: OFFSET_OUT_OF_RANGE (1) in the partitions */
		expect(what, 1, FE_L7_RESPONSE, "fetch", v, 1000 + v, "orders,payments", v == 0 ? 1 : 0);
		if (H.n_events == 2)
			CHECK_U64(T("%s: latency", what), H.events[1]->l7.latency_ns, 500000);
	}
	/* top-level error wins over partition errors (v7+) */
	start();
	fetch_req(11, 5, T1, NULL, 1);
	feed(L7_DIR_TO_SERVER, 1);
	fetch_resp(11, 5, T1, NULL, 1, 70, 3, 0);  /* FETCH_SESSION_ID_NOT_FOUND */
	feed(L7_DIR_TO_CLIENT, 2);
	expect("fetch top-level error", 1, FE_L7_RESPONSE, "fetch", 11, 5, "orders", 70);
}

static const uint8_t ID_ORDERS[16] = { 0x6b, 0x1f, 0x30, 0x2c, 0x8e, 0x11, 0x4d, 0x2e,
                                       0x9a, 0x77, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };

static void test_fetch_topic_ids(void)
{
	start();
	/* Metadata v12 teaches the IDs... */
	metadata_req(12, 1, T2, 2);
	feed(L7_DIR_TO_SERVER, 1);
	const uint8_t ids[2][16] = {
		{ 0x6b, 0x1f, 0x30, 0x2c, 0x8e, 0x11, 0x4d, 0x2e, 0x9a, 0x77, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab },
		{ 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
	};
	metadata_resp(12, 1, T2, ids, 2, NULL);
	feed(L7_DIR_TO_CLIENT, 2);
	CHECK_U64("metadata v12: 2 topic IDs learnt", H.n_topics, 2);
	CHECK("metadata v12: ID of orders",
	      H.n_topics == 2 && memcmp(H.topics[0].id, ID_ORDERS, 16) == 0 &&
	      strcmp(H.topics[0].name, "orders") == 0);
	expect("metadata v12", 0, FE_L7_REQUEST, "metadata", 12, 1, "orders,payments", 0);
	expect("metadata v12", 1, FE_L7_RESPONSE, "metadata", 12, 1, "orders,payments", 0);

	/* ...that Fetch v13 uses (only payments, then an unknown ID) */
	const uint8_t fid[2][16] = {
		{ 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 },
		{ 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 },
	};
	fetch_req(13, 2, NULL, fid, 2);
	feed(L7_DIR_TO_SERVER, 3);
	fetch_resp(13, 2, NULL, fid, 2, 0, 0, 100);
	feed(L7_DIR_TO_CLIENT, 4);
	expect("fetch v13", 2, FE_L7_REQUEST, "fetch", 13, 2, "payments", 0);
	expect("fetch v13", 3, FE_L7_RESPONSE, "fetch", 13, 2, "payments", 0);
	/* the unknown ID is left out (once in the request, once in the response) */
	CHECK_U64("fetch v13: unresolved IDs counted", l7h_counter(&H, "kafka.topic_id_unresolved"), 2);

	/* an incremental fetch names no topic: the response's topics are reported */
	fetch_req(13, 3, NULL, NULL, 0);
	feed(L7_DIR_TO_SERVER, 5);
	fetch_resp(13, 3, NULL, ids, 1, 0, 0, 10);
	feed(L7_DIR_TO_CLIENT, 6);
	expect("fetch v13 session", 4, FE_L7_REQUEST, "fetch", 13, 3, "", 0);
	expect("fetch v13 session", 5, FE_L7_RESPONSE, "fetch", 13, 3, "orders", 0);
}

static void test_metadata_versions(void)
{
	static const int versions[] = { 0, 1, 4, 7, 8, 9, 10 };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		int v = versions[i];
		start();
		metadata_req(v, 3, T1, 1);
		feed(L7_DIR_TO_SERVER, 1);
		const uint8_t ids[1][16] = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
		int16_t err[] = { 3 };          /* UNKNOWN_TOPIC_OR_PARTITION */
		metadata_resp(v, 3, T1, ids, 1, err);
		feed(L7_DIR_TO_CLIENT, 2);
		char what[32];
		snprintf(what, sizeof(what), "metadata v%d", v);
		expect(what, 0, FE_L7_REQUEST, "metadata", v, 3, "orders", 0);
		expect(what, 1, FE_L7_RESPONSE, "metadata", v, 3, "orders", 3);
		CHECK_U64(T("%s: topic IDs learnt", what), H.n_topics, v >= 10 ? 1 : 0);
	}
	/* all topics: the request names none, the response lists them */
	start();
	metadata_req(1, 4, NULL, 0);
	feed(L7_DIR_TO_SERVER, 1);
	metadata_resp(1, 4, T2, NULL, 2, NULL);
	feed(L7_DIR_TO_CLIENT, 2);
	expect("metadata all topics", 0, FE_L7_REQUEST, "metadata", 1, 4, "", 0);
	expect("metadata all topics", 1, FE_L7_RESPONSE, "metadata", 1, 4, "orders,payments", 0);
}

static void test_list_offsets(void)
{
	static const int versions[] = { 0, 1, 2, 4, 6, 7 };
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		int v = versions[i], fx = v >= 6;
		start();
		kb_req(&K, 2, (int16_t)v, 9, "c", fx ? 2 : 1);
		kb_i32(&K, -1);
		if (v >= 2)
			kb_u8(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_str_v(&K, fx, "orders");
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		if (v >= 4)
			kb_i32(&K, -1);
		kb_i64(&K, -1);
		if (v == 0)
			kb_i32(&K, 1);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_SERVER, 1);
		kb_resp(&K, 9, fx);
		if (v >= 2)
			kb_i32(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_str_v(&K, fx, "orders");
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, 0);
		if (v == 0) {
			kb_len_v(&K, fx, 1);
			kb_i64(&K, 5);
		} else {
			kb_i64(&K, -1);
			kb_i64(&K, 5);
		}
		if (v >= 4)
			kb_i32(&K, 0);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_CLIENT, 2);
		char what[32];
		snprintf(what, sizeof(what), "listoffsets v%d", v);
		expect(what, 0, FE_L7_REQUEST, "offsets", v, 9, "orders", 0);
		expect(what, 1, FE_L7_RESPONSE, "offsets", v, 9, "orders", 0);
		CHECK_U64(T("%s: no malformed", what), l7h_counter(&H, "kafka.malformed"), 0);
	}
}

static void test_offset_commit_fetch(void)
{
	static const int cversions[] = { 0, 1, 2, 5, 6, 7, 8 };
	for (size_t i = 0; i < sizeof(cversions) / sizeof(cversions[0]); i++) {
		int v = cversions[i], fx = v >= 8;
		start();
		kb_req(&K, 8, (int16_t)v, 21, "c", fx ? 2 : 1);
		kb_str_v(&K, fx, "group-1");
		if (v >= 1) {
			kb_i32(&K, 3);
			kb_str_v(&K, fx, "member-1");
		}
		if (v >= 7)
			kb_str_v(&K, fx, NULL);
		if (v >= 2 && v <= 4)
			kb_i64(&K, -1);
		kb_len_v(&K, fx, 1);
		kb_str_v(&K, fx, "payments");
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i64(&K, 99);
		if (v >= 6)
			kb_i32(&K, -1);
		if (v == 1)
			kb_i64(&K, -1);
		kb_str_v(&K, fx, "meta");
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_SERVER, 1);
		kb_resp(&K, 21, fx);
		if (v >= 3)
			kb_i32(&K, 0);
		kb_len_v(&K, fx, 1);
		kb_str_v(&K, fx, "payments");
		kb_len_v(&K, fx, 1);
		kb_i32(&K, 0);
		kb_i16(&K, 25);                 /* UNKNOWN_MEMBER_ID */
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_CLIENT, 2);
		char what[32];
		snprintf(what, sizeof(what), "offsetcommit v%d", v);
		expect(what, 0, FE_L7_REQUEST, "offsetcommit", v, 21, "payments", 0);
		expect(what, 1, FE_L7_RESPONSE, "offsetcommit", v, 21, "payments", 25);
	}

	static const int fversions[] = { 0, 1, 2, 5, 6, 7, 8 };
	for (size_t i = 0; i < sizeof(fversions) / sizeof(fversions[0]); i++) {
		int v = fversions[i], fx = v >= 6;
		start();
		kb_req(&K, 9, (int16_t)v, 31, "c", fx ? 2 : 1);
		if (v <= 7) {
			kb_str_v(&K, fx, "group-1");
			kb_len_v(&K, fx, 2);
			for (int t = 0; t < 2; t++) {
				kb_str_v(&K, fx, T2[t]);
				kb_len_v(&K, fx, 1);
				kb_i32(&K, 0);
				kb_tags_v(&K, fx);
			}
		} else {
			kb_len_v(&K, fx, 1);    /* groups */
			kb_str_v(&K, fx, "group-1");
			kb_len_v(&K, fx, 2);
			for (int t = 0; t < 2; t++) {
				kb_str_v(&K, fx, T2[t]);
				kb_len_v(&K, fx, 1);
				kb_i32(&K, 0);
				kb_tags_v(&K, fx);
			}
			kb_tags_v(&K, fx);
		}
		if (v >= 7)
			kb_u8(&K, 0);
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_SERVER, 1);
		kb_resp(&K, 31, fx);
		if (v >= 3)
			kb_i32(&K, 0);
		if (v <= 7) {
			kb_len_v(&K, fx, 1);
			kb_str_v(&K, fx, "orders");
			kb_len_v(&K, fx, 1);
			kb_i32(&K, 0);
			kb_i64(&K, 5);
			if (v >= 5)
				kb_i32(&K, -1);
			kb_str_v(&K, fx, "");
			kb_i16(&K, 0);
			kb_tags_v(&K, fx);
			kb_tags_v(&K, fx);
			if (v >= 2)
				kb_i16(&K, 16);         /* NOT_COORDINATOR, top level */
		} else {
			kb_len_v(&K, fx, 1);
			kb_str_v(&K, fx, "group-1");
			kb_len_v(&K, fx, 0);
			kb_i16(&K, 16);
			kb_tags_v(&K, fx);
		}
		kb_tags_v(&K, fx);
		kb_end(&K);
		feed(L7_DIR_TO_CLIENT, 2);
		char what[32];
		snprintf(what, sizeof(what), "offsetfetch v%d", v);
		expect(what, 0, FE_L7_REQUEST, "offsetfetch", v, 31, "orders,payments", 0);
		expect(what, 1, FE_L7_RESPONSE, "offsetfetch", v, 31, "orders,payments",
		       v >= 2 ? 16 : 0);
	}
}

/* Responses that only carry an error code; ApiVersions keeps header v0 in
 * flexible versions. */
static void test_header_only_apis(void)
{
	start();
	kb_req(&K, 18, 3, 2, "adminclient-1", 2);
	kb_cstr(&K, "apache-kafka-java");
	kb_cstr(&K, "3.1.0");
	kb_tags0(&K);
	kb_end(&K);
	feed(L7_DIR_TO_SERVER, 1);
	kb_resp(&K, 2, 0);                      /* header v0 */
	kb_i16(&K, 35);                         /* UNSUPPORTED_VERSION */
	kb_uv(&K, 2);
	kb_i16(&K, 18);
	kb_i16(&K, 0);
	kb_i16(&K, 3);
	kb_tags0(&K);
	kb_i32(&K, 0);
	kb_tags0(&K);
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 2);
	expect("apiversions v3", 0, FE_L7_REQUEST, "apiversions", 3, 2, "", 0);
	expect("apiversions v3", 1, FE_L7_RESPONSE, "apiversions", 3, 2, "", 35);
	CHECK_STR("apiversions v3: client_id", kev(0) ? kev(0)->client_id : NULL, "adminclient-1");

	/* JoinGroup v7: flexible response header v1, throttle, error */
	kb_req(&K, 11, 7, 120, "consumer-1", 2);
	kb_cstr(&K, "g");
	kb_fill(&K, 40, 0);                     /* rest of the body: not decoded */
	kb_end(&K);
	feed(L7_DIR_TO_SERVER, 3);
	kb_resp(&K, 120, 1);
	kb_i32(&K, 0);
	kb_i16(&K, 79);                         /* MEMBER_ID_REQUIRED */
	kb_i32(&K, -1);
	kb_fill(&K, 20, 0);
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 4);
	expect("joingroup v7", 3, FE_L7_RESPONSE, "joingroup", 7, 120, "", 79);

	/* Heartbeat v0: error only, classic */
	kb_req(&K, 12, 0, 121, "consumer-1", 1);
	kb_str(&K, "g");
	kb_i32(&K, 1);
	kb_str(&K, "m");
	kb_end(&K);
	feed(L7_DIR_TO_SERVER, 5);
	kb_resp(&K, 121, 0);
	kb_i16(&K, 27);                         /* REBALANCE_IN_PROGRESS */
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 6);
	expect("heartbeat v0", 5, FE_L7_RESPONSE, "heartbeat", 0, 121, "", 27);
	CHECK_U64("header-only apis: no malformed", l7h_counter(&H, "kafka.malformed"), 0);

	/* FindCoordinator v4: errors per coordinator */
	kb_req(&K, 10, 4, 122, "consumer-1", 2);
	kb_u8(&K, 0);
	kb_uv(&K, 2);
	kb_cstr(&K, "g");
	kb_tags0(&K);
	kb_end(&K);
	feed(L7_DIR_TO_SERVER, 7);
	kb_resp(&K, 122, 1);
	kb_i32(&K, 0);
	kb_uv(&K, 2);
	kb_cstr(&K, "g");
	kb_i32(&K, -1);
	kb_cstr(&K, "");
	kb_i32(&K, -1);
	kb_i16(&K, 15);                         /* COORDINATOR_NOT_AVAILABLE */
	kb_cstr(&K, NULL);
	kb_tags0(&K);
	kb_i32(&K, 0);
	kb_tags0(&K);
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 8);
	expect("findcoordinator v4", 7, FE_L7_RESPONSE, "findcoordinator", 4, 122, "", 15);
}

/* Unknown keys and versions: framed, header fields only, never decoded. */
static void test_unknown(void)
{
	start();
	kb_req(&K, 999, 3, 77, "future-client", 2);
	kb_fill(&K, 30, 0x05);
	kb_end(&K);
	kb_req(&K, 0, 15, 78, "future-client", 2);  /* Produce v15: not known */
	kb_cstr(&K, NULL);
	kb_i16(&K, 1);
	kb_i32(&K, 10);
	kb_uv(&K, 2);
	kb_cstr(&K, "orders");
	kb_fill(&K, 10, 0);
	kb_end(&K);
	feed(L7_DIR_TO_SERVER, 1);
	kb_resp(&K, 77, 0);
	kb_fill(&K, 8, 0x09);
	kb_end(&K);
	kb_resp(&K, 78, 1);
	kb_fill(&K, 8, 0x09);
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 2);
	CHECK_U64("unknown: 4 events", H.n_events, 4);
	expect("unknown key", 0, FE_L7_REQUEST, "999", 3, 77, "", 0);
	expect("unknown version", 1, FE_L7_REQUEST, "produce", 15, 78, "", 0);
	expect("unknown key", 2, FE_L7_RESPONSE, "999", 3, 77, "", 0);
	expect("unknown version", 3, FE_L7_RESPONSE, "produce", 15, 78, "", 0);
	CHECK_STR("unknown key: client_id", kev(0) ? kev(0)->client_id : NULL, "future-client");
	CHECK_U64("unknown: counted", l7h_counter(&H, "kafka.unknown_api"), 2);
	CHECK_U64("unknown: no malformed", l7h_counter(&H, "kafka.malformed"), 0);
}

/* The same stream in one piece, byte by byte and in odd chunks gives the
 * same events. */
static void build_mixed_stream(struct kb *req, struct kb *resp)
{
	K.n = 0;
	metadata_req(9, 1, T2, 2);
	produce_req(9, 2, T2, 2, -1, 700);
	fetch_req(12, 3, T1, NULL, 1);
	produce_req(2, 4, T1, 1, 1, 50);
	memcpy(req->b, K.b, K.n);
	req->n = K.n;
	K.n = 0;
	metadata_resp(9, 1, T2, NULL, 2, NULL);
	int16_t err[] = { 0, 0 };
	produce_resp(9, 2, T2, 2, err);
	fetch_resp(12, 3, T1, NULL, 1, 0, 0, 3000);
	produce_resp(2, 4, T1, 1, NULL);
	memcpy(resp->b, K.b, K.n);
	resp->n = K.n;
	K.n = 0;
}

static void check_mixed(const char *what)
{
	CHECK_U64(T("%s: 8 events", what), H.n_events, 8);
	expect(what, 0, FE_L7_REQUEST, "metadata", 9, 1, "orders,payments", 0);
	expect(what, 1, FE_L7_REQUEST, "produce", 9, 2, "orders,payments", 0);
	expect(what, 2, FE_L7_REQUEST, "fetch", 12, 3, "orders", 0);
	expect(what, 3, FE_L7_REQUEST, "produce", 2, 4, "orders", 0);
	expect(what, 4, FE_L7_RESPONSE, "metadata", 9, 1, "orders,payments", 0);
	expect(what, 5, FE_L7_RESPONSE, "produce", 9, 2, "orders,payments", 0);
	expect(what, 6, FE_L7_RESPONSE, "fetch", 12, 3, "orders", 0);
	expect(what, 7, FE_L7_RESPONSE, "produce", 2, 4, "orders", 0);
	CHECK_U64(T("%s: no malformed", what), l7h_counter(&H, "kafka.malformed"), 0);
	CHECK_U64(T("%s: no desync", what), l7h_counter(&H, "kafka.desync"), 0);
}

static void test_segmentation(void)
{
	static struct kb rq, rs;
	build_mixed_stream(&rq, &rs);

	start();                                /* pipelined: all requests, then all responses */
	l7h_feed(&H, L7_DIR_TO_SERVER, rq.b, rq.n, 1);
	l7h_feed(&H, L7_DIR_TO_CLIENT, rs.b, rs.n, 2);
	check_mixed("pipelined, one segment each");

	start();
	for (size_t i = 0; i < rq.n; i++)
		l7h_feed(&H, L7_DIR_TO_SERVER, rq.b + i, 1, 1);
	for (size_t i = 0; i < rs.n; i++)
		l7h_feed(&H, L7_DIR_TO_CLIENT, rs.b + i, 1, 2);
	check_mixed("byte by byte");

	static const size_t chunks[] = { 3, 7, 13, 100, 1460 };
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		start();
		for (size_t i = 0; i < rq.n; i += chunks[c])
			l7h_feed(&H, L7_DIR_TO_SERVER, rq.b + i,
			         rq.n - i < chunks[c] ? rq.n - i : chunks[c], 1);
		for (size_t i = 0; i < rs.n; i += chunks[c])
			l7h_feed(&H, L7_DIR_TO_CLIENT, rs.b + i,
			         rs.n - i < chunks[c] ? rs.n - i : chunks[c], 2);
		char what[48];
		snprintf(what, sizeof(what), "chunks of %zu", chunks[c]);
		check_mixed(what);
	}
}

/* Responses in another order than their requests are matched by id. */
/* The joined topic list is bounded (4096 bytes); the rest is counted. */
static void test_many_topics(void)
{
	static char names[300][32];
	static const char *list[300];
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "topic-%04d-abcdefghij", i);
		list[i] = names[i];
	}
	start();
	produce_req(3, 1, list, 300, 1, 5);
	feed(L7_DIR_TO_SERVER, 1);
	const struct fe_kafka *k = kev(0);
	/* 21-byte names + commas: 186 fit in 4096 bytes */
	CHECK("many topics: bounded list", k && strlen(k->topic) == 186 * 22 - 1);
	CHECK("many topics: first and last listed",
	      k && strncmp(k->topic, "topic-0000-abcdefghij,", 22) == 0 &&
	      strcmp(k->topic + strlen(k->topic) - 21, "topic-0185-abcdefghij") == 0);
	CHECK_U64("many topics: counted", l7h_counter(&H, "kafka.topics_truncated"), 114);
	/* the same topic many times is listed once */
	const char *same[50];
	for (int i = 0; i < 50; i++)
		same[i] = "orders";
	produce_req(3, 2, same, 50, 1, 5);
	feed(L7_DIR_TO_SERVER, 2);
	expect("repeated topic", 1, FE_L7_REQUEST, "produce", 3, 2, "orders", 0);
}

static void test_out_of_order(void)
{
	start();
	fetch_req(11, 100, T1, NULL, 1);
	produce_req(7, 101, T2, 2, 1, 10);
	feed(L7_DIR_TO_SERVER, 10);
	produce_resp(7, 101, T2, 2, NULL);
	feed(L7_DIR_TO_CLIENT, 20);
	fetch_resp(11, 100, T1, NULL, 1, 0, 0, 10);
	feed(L7_DIR_TO_CLIENT, 510);
	expect("out of order", 2, FE_L7_RESPONSE, "produce", 7, 101, "orders,payments", 0);
	expect("out of order", 3, FE_L7_RESPONSE, "fetch", 11, 100, "orders", 0);
	if (H.n_events == 4)
		CHECK_U64("out of order: fetch latency", H.events[3]->l7.latency_ns, 500);

	/* a response nobody asked for is counted, not reported */
	kb_resp(&K, 555, 0);
	kb_i16(&K, 0);
	kb_end(&K);
	feed(L7_DIR_TO_CLIENT, 600);
	CHECK_U64("unmatched response: no event", H.n_events, 4);
	CHECK_U64("unmatched response: counted", l7h_counter(&H, "kafka.response_unmatched"), 1);
}

static void test_gaps(void)
{
	/* a gap inside the records of a Produce: the message is still framed */
	start();
	produce_req(3, 1, T2, 2, 1, 4000);
	size_t cut = 200, lost = 1000;
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b, cut, 1);
	l7h_gap(&H, L7_DIR_TO_SERVER, lost, 2);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b + cut + lost, K.n - cut - lost, 3);
	K.n = 0;
	produce_req(3, 2, T1, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 4);
	CHECK_U64("gap in records: 2 requests", H.n_events, 2);
	/* the first topic was seen before the gap, the second is in the lost part */
	expect("gap in records", 0, FE_L7_REQUEST, "produce", 3, 1, "orders", 0);
	CHECK_U64("gap in records: gap_bytes", H.n_events ? H.events[0]->l7_info.gap_bytes : 0, lost);
	expect("gap in records", 1, FE_L7_REQUEST, "produce", 3, 2, "orders", 0);
	CHECK_U64("gap in records: no desync", l7h_counter(&H, "kafka.desync"), 0);

	/* a gap over a frame boundary: resync on the next request header */
	start();
	produce_req(3, 1, T1, 1, 1, 100);
	size_t first = K.n;
	produce_req(3, 2, T1, 1, 1, 100);
	produce_req(3, 3, T2, 2, 1, 100);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b, 50, 1);
	l7h_gap(&H, L7_DIR_TO_SERVER, first + 20 - 50, 2);   /* into the 2nd request */
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b + first + 20, K.n - first - 20, 3);
	K.n = 0;
	CHECK_U64("gap over boundary: desync", l7h_counter(&H, "kafka.desync"), 1);
	CHECK_U64("gap over boundary: resync", l7h_counter(&H, "kafka.resync"), 1);
	CHECK_U64("gap over boundary: 2 events", H.n_events, 2);
	expect("gap over boundary", 0, FE_L7_REQUEST, "produce", 3, 1, "orders", 0);
	expect("gap over boundary", 1, FE_L7_REQUEST, "produce", 3, 3, "orders,payments", 0);
	/* responses resync on correlation ids we wait for */
	produce_resp(3, 1, T1, 1, NULL);
	size_t r1 = K.n;
	produce_resp(3, 2, T1, 1, NULL);
	produce_resp(3, 3, T2, 2, NULL);
	l7h_feed(&H, L7_DIR_TO_CLIENT, K.b, 10, 4);
	l7h_gap(&H, L7_DIR_TO_CLIENT, r1 + 5 - 10, 5);
	l7h_feed(&H, L7_DIR_TO_CLIENT, K.b + r1 + 5, K.n - r1 - 5, 6);
	K.n = 0;
	CHECK_U64("response gap: 4 events", H.n_events, 4);
	CHECK(T("response gap: first response has gap_bytes"),
	      H.n_events == 4 && H.events[2]->l7_info.gap_bytes == r1 - 10);
	expect("response gap", 2, FE_L7_RESPONSE, "produce", 3, 1, "orders", 0);
	expect("response gap", 3, FE_L7_RESPONSE, "produce", 3, 3, "orders,payments", 0);

	/* a gap that ends exactly at a frame boundary keeps the framing */
	start();
	produce_req(3, 1, T1, 1, 1, 100);
	size_t f1 = K.n;
	produce_req(3, 2, T2, 2, 1, 100);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b, 30, 1);
	l7h_gap(&H, L7_DIR_TO_SERVER, f1 - 30, 2);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b + f1, K.n - f1, 3);
	K.n = 0;
	CHECK_U64("gap to boundary: no desync", l7h_counter(&H, "kafka.desync"), 0);
	/* the topic name was in the lost bytes: not reported */
	expect("gap to boundary", 0, FE_L7_REQUEST, "produce", 3, 1, "", 0);
	CHECK_U64("gap to boundary: gap_bytes", H.n_events ? H.events[0]->l7_info.gap_bytes : 0, f1 - 30);
	expect("gap to boundary", 1, FE_L7_REQUEST, "produce", 3, 2, "orders,payments", 0);
}

static void test_bad_input(void)
{
	/* an absurd size: desync, then resync on the real request behind it */
	start();
	kb_raw(&K, "\x7f\xff\xff\xff garbage garbage", 20);
	produce_req(3, 5, T1, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 1);
	CHECK_U64("absurd size: desync", l7h_counter(&H, "kafka.desync"), 1);
	CHECK_U64("absurd size: skipped", l7h_counter(&H, "kafka.resync_skipped_bytes"), 20);
	expect("absurd size", 0, FE_L7_REQUEST, "produce", 3, 5, "orders", 0);

	/* a topic length beyond the frame: malformed, header fields only */
	start();
	kb_req(&K, 0, 3, 6, "p", 1);
	kb_str(&K, NULL);
	kb_i16(&K, 1);
	kb_i32(&K, 10);
	kb_i32(&K, 1);
	kb_i16(&K, 500);                        /* topic length */
	kb_raw(&K, "orders", 6);
	kb_end(&K);
	produce_req(3, 7, T1, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 1);
	CHECK_U64("bad topic length: malformed", l7h_counter(&H, "kafka.malformed"), 1);
	CHECK_U64("bad topic length: no desync", l7h_counter(&H, "kafka.desync"), 0);
	expect("bad topic length", 0, FE_L7_REQUEST, "produce", 3, 6, "", 0);
	expect("bad topic length", 1, FE_L7_REQUEST, "produce", 3, 7, "orders", 0);

	/* a topic name with characters Kafka forbids is not reported */
	start();
	const char *const bad[] = { "a,b" };
	produce_req(3, 8, bad, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 1);
	expect("invalid topic name", 0, FE_L7_REQUEST, "produce", 3, 8, "", 0);
	CHECK_U64("invalid topic name: counted", l7h_counter(&H, "kafka.topic_invalid"), 1);

	/* a frame too short for its header */
	start();
	kb_begin(&K);
	kb_i16(&K, 0);
	kb_i16(&K, 3);
	kb_i32(&K, 9);                          /* no client_id */
	kb_end(&K);
	produce_req(3, 10, T1, 1, 1, 10);
	feed(L7_DIR_TO_SERVER, 1);
	CHECK_U64("short header: malformed", l7h_counter(&H, "kafka.malformed"), 1);
	expect("short header", 1, FE_L7_REQUEST, "produce", 3, 10, "orders", 0);
}

static void test_close_and_midstream(void)
{
	/* the capture ends inside a request: reported truncated */
	start();
	produce_req(3, 1, T2, 2, 1, 3000);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b, 100, 1);
	K.n = 0;
	l7h_close(&H, L7_DIR_TO_SERVER, 2);
	l7h_close(&H, L7_DIR_TO_CLIENT, 2);
	CHECK_U64("truncated: 1 event", H.n_events, 1);
	expect("truncated", 0, FE_L7_REQUEST, "produce", 3, 1, "orders", 0);
	CHECK("truncated: flagged", H.n_events == 1 && H.events[0]->l7_info.truncated);

	/* requests without a response are counted at close */
	start();
	fetch_req(4, 1, T1, NULL, 1);
	fetch_req(4, 2, T1, NULL, 1);
	feed(L7_DIR_TO_SERVER, 1);
	l7h_close(&H, L7_DIR_TO_SERVER, 2);
	l7h_close(&H, L7_DIR_TO_CLIENT, 2);
	CHECK_U64("unanswered: counted", l7h_counter(&H, "kafka.unanswered"), 2);

	/* joined mid-connection: the tail of a message, then whole ones */
	l7h_free(&H);
	l7h_init(&H, &l7_kafka_ops, L7_TCP, "198.18.0.2", 40100, "198.18.0.1", 9092);
	H.ops->destroy(H.state);
	H.ci.midstream = true;
	H.state = H.ops->create(&H.ci, &H.cfg);
	K.n = 0;
	produce_req(3, 1, T1, 1, 1, 300);
	size_t tail = K.n - 150;
	produce_req(3, 2, T2, 2, 1, 10);
	l7h_feed(&H, L7_DIR_TO_SERVER, K.b + tail, K.n - tail, 1);
	K.n = 0;
	produce_resp(3, 1, T1, 1, NULL);
	size_t rtail = K.n - 7;
	produce_resp(3, 2, T2, 2, NULL);
	l7h_feed(&H, L7_DIR_TO_CLIENT, K.b + rtail, K.n - rtail, 2);
	K.n = 0;
	CHECK_U64("midstream: 2 events", H.n_events, 2);
	expect("midstream", 0, FE_L7_REQUEST, "produce", 3, 2, "orders,payments", 0);
	expect("midstream", 1, FE_L7_RESPONSE, "produce", 3, 2, "orders,payments", 0);
}

static void test_pending_bound(void)
{
	start();                                /* harness: max_pending 64 */
	for (int i = 0; i < 70; i++)
		produce_req(3, i, T1, 1, 1, 1);
	feed(L7_DIR_TO_SERVER, 1);
	CHECK_U64("pending bound: 70 requests", H.n_events, 70);
	CHECK_U64("pending bound: evicted", l7h_counter(&H, "kafka.pending_evicted"), 6);
	produce_resp(3, 0, T1, 1, NULL);        /* evicted: unmatched */
	produce_resp(3, 69, T1, 1, NULL);
	feed(L7_DIR_TO_CLIENT, 2);
	CHECK_U64("pending bound: one response matched", H.n_events, 71);
	CHECK_U64("pending bound: one unmatched", l7h_counter(&H, "kafka.response_unmatched"), 1);
}

static void test_probe(void)
{
	struct l7_conn_info ci = { .transport = L7_TCP, .client_ip = "198.18.0.2",
	                           .server_ip = "198.18.0.1", .client_port = 40000,
	                           .server_port = 9092 };
	struct l7_conn_info ci_other = ci;
	ci_other.server_port = 8080;
	K.n = 0;
	produce_req(9, 1, T1, 1, 1, 100);
	CHECK_U64("probe: whole frame", (uint64_t)l7_kafka_ops.probe(K.b, K.n, L7_DIR_TO_SERVER, &ci), 95);
	CHECK_U64("probe: header, kafka port", (uint64_t)l7_kafka_ops.probe(K.b, 40, L7_DIR_TO_SERVER, &ci), 80);
	CHECK_U64("probe: header, other port",
	          (uint64_t)l7_kafka_ops.probe(K.b, 40, L7_DIR_TO_SERVER, &ci_other), 60);
	CHECK_U64("probe: too short", (uint64_t)l7_kafka_ops.probe(K.b, 6, L7_DIR_TO_SERVER, &ci), 0);
	CHECK_U64("probe: responses are not probed",
	          (uint64_t)l7_kafka_ops.probe(K.b, K.n, L7_DIR_TO_CLIENT, &ci), 0);
	const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	CHECK_U64("probe: HTTP", (uint64_t)l7_kafka_ops.probe((const uint8_t *)http, strlen(http),
	                                                      L7_DIR_TO_SERVER, &ci), 0);
	const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
	                        0x11, 0x22, 0x33, 0x44, 0x55 };
	CHECK_U64("probe: TLS", (uint64_t)l7_kafka_ops.probe(tls, sizeof(tls), L7_DIR_TO_SERVER, &ci), 0);
	/* a frame whose body does not decode: demoted */
	K.n = 0;
	kb_req(&K, 0, 3, 6, "p", 1);
	kb_str(&K, NULL);
	kb_i16(&K, 1);
	kb_i32(&K, 10);
	kb_i32(&K, 1);
	kb_i16(&K, 500);
	kb_end(&K);
	CHECK_U64("probe: bad body", (uint64_t)l7_kafka_ops.probe(K.b, K.n, L7_DIR_TO_SERVER, &ci), 40);
	K.n = 0;
}

/* Peer-corpus captures (tests/unit/data/kafka, from DeepFlow's and Arkime's
 * test suites). Expected values are DeepFlow's .result where it agrees with
 * the bytes on the wire; the comments say where it does not. */
struct corpus_case {
	const char *vec;
	const char *api_key;
	int version, corr;
	const char *req_topic, *resp_topic;
	int error;
	uint64_t latency_ns;
};

static void test_corpus(void)
{
	static const struct corpus_case cases[] = {
		{ "deepflow_00_produce_v2", "produce", 2, 1, "topic2", "topic2", 0, 16107000 },
		{ "deepflow_00_produce_v7_sw8", "produce", 7, 1, "quickstart-events",
		  "quickstart-events", 0, 28415000 },
		{ "deepflow_00_produce_v9", "produce", 9, 47, "zqy-test", "zqy-test", 0, 1619000 },
		/* DeepFlow leaves the response topic empty; ours is the request's */
		{ "deepflow_01_fetch_v12_ok", "fetch", 12, 15603, "zqy-test", "zqy-test", 0, 499610000 },
		/* an incremental fetch (no topics); expected-perf.txt: rtt 504829 us */
		{ "deepflow_01_fetch_v12_perf", "fetch", 12, 20, "", "", 0, 504829000 },
		/* error 0x1400 = 5120 on the wire (crafted); DeepFlow's rrt is 0
		 * (its response window); the capture's clock says 13 s */
		{ "deepflow_01_fetch_v12_unknown", "fetch", 12, 20, "", "", 5120, 13000000000ull },
		{ "deepflow_11_join_group_v7", "joingroup", 7, 120, "", "", -1, 2956000 },
		{ "deepflow_13_leave_group_v4", "leavegroup", 4, 201, "", "", 0, 2739000 },
		{ "deepflow_14_sync_group_v5", "syncgroup", 5, 120, "", "", -1, 2922000 },
		{ "deepflow_18_api_versions_v3", "apiversions", 3, 2, "", "", 0, 4941000 },
		/* Fetch v13 of an incremental session: no topic IDs to resolve */
		{ "deepflow_mixed_with_unsupported_a", "fetch", 13, 15551976, "", "", 0, 501156000 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct corpus_case *c = &cases[i];
		char path[256], what[96];
		snprintf(path, sizeof(path), "tests/unit/data/kafka/%s.vec", c->vec);
		snprintf(what, sizeof(what), "corpus %s", c->vec);
		start();
		CHECK_U64(T("%s: fed", what), (uint64_t)vec_feed(&H, path), 2);
		CHECK_U64(T("%s: 2 events", what), H.n_events, 2);
		expect(what, 0, FE_L7_REQUEST, c->api_key, c->version, c->corr, c->req_topic, 0);
		expect(what, 1, FE_L7_RESPONSE, c->api_key, c->version, c->corr, c->resp_topic, c->error);
		if (H.n_events == 2)
			CHECK_U64(T("%s: latency", what), H.events[1]->l7.latency_ns, c->latency_ns);
		CHECK_U64(T("%s: no malformed", what), l7h_counter(&H, "kafka.malformed"), 0);
	}

	/* The other connection of mixed-with-unsupported: DeepFlow reports
	 * status_code -2 for both responses and no topic; the bytes say error
	 * 0 (OffsetCommit partition error, Heartbeat error) and topic "orders"
	 * (tshark agrees). */
	start();
	vec_feed(&H, "tests/unit/data/kafka/deepflow_mixed_with_unsupported_b.vec");
	CHECK_U64("corpus mixed b: 4 events", H.n_events, 4);
	expect("corpus mixed b", 0, FE_L7_REQUEST, "offsetcommit", 8, 15551977, "orders", 0);
	expect("corpus mixed b", 1, FE_L7_RESPONSE, "offsetcommit", 8, 15551977, "orders", 0);
	expect("corpus mixed b", 2, FE_L7_REQUEST, "heartbeat", 4, 15551978, "", 0);
	expect("corpus mixed b", 3, FE_L7_RESPONSE, "heartbeat", 4, 15551978, "", 0);
	if (H.n_events == 4) {
		CHECK_U64("corpus mixed b: offsetcommit latency", H.events[1]->l7.latency_ns, 1001000);
		CHECK_U64("corpus mixed b: heartbeat latency", H.events[3]->l7.latency_ns, 277000);
		CHECK_STR("corpus mixed b: client_id", H.events[0]->l7.kafka.client_id,
		          "consumer-frauddetectionservice-1");
	}

	/* Arkime: a ListOffsets v0 request (VLAN 300), the response not captured */
	start();
	vec_feed(&H, "tests/unit/data/kafka/arkime_kafka.vec");
	l7h_close(&H, L7_DIR_TO_SERVER, 1);
	l7h_close(&H, L7_DIR_TO_CLIENT, 1);
	CHECK_U64("corpus arkime: 1 event", H.n_events, 1);
	expect("corpus arkime", 0, FE_L7_REQUEST, "offsets", 0, 0,
	       "integration.test.topic1475007069352", 0);
	CHECK_U64("corpus arkime: unanswered", l7h_counter(&H, "kafka.unanswered"), 1);
}

/* Joining a busy connection: the first bytes are inside a message. */
static void test_probe_midstream(void)
{
	struct l7_conn_info ci = { .transport = L7_TCP, .client_ip = "198.18.0.2",
	                           .server_ip = "198.18.0.1", .client_port = 40000,
	                           .server_port = 9092, .midstream = true };
	struct l7_conn_info ci_other = ci;
	ci_other.server_port = 7000;
	K.n = 0;
	produce_req(3, 1, T1, 1, 1, 400);
	size_t first = K.n;
	produce_req(3, 2, T1, 1, 1, 10);
	const uint8_t *tail = K.b + first - 300;
	size_t tail_len = K.n - first + 300;
	CHECK_U64("probe midstream: header further in, kafka port",
	          (uint64_t)l7_kafka_ops.probe(tail, tail_len, L7_DIR_TO_SERVER, &ci), 70);
	CHECK_U64("probe midstream: header further in, other port",
	          (uint64_t)l7_kafka_ops.probe(tail, tail_len, L7_DIR_TO_SERVER, &ci_other), 50);
	CHECK_U64("probe midstream: no header, kafka port",
	          (uint64_t)l7_kafka_ops.probe(tail, 250, L7_DIR_TO_SERVER, &ci), 5);
	CHECK_U64("probe midstream: no header, other port",
	          (uint64_t)l7_kafka_ops.probe(tail, 250, L7_DIR_TO_SERVER, &ci_other), 0);
	CHECK_U64("probe midstream: responses, kafka port",
	          (uint64_t)l7_kafka_ops.probe(tail, 250, L7_DIR_TO_CLIENT, &ci), 5);
	ci.midstream = false;
	CHECK_U64("probe: not midstream, no header at 0",
	          (uint64_t)l7_kafka_ops.probe(tail, tail_len, L7_DIR_TO_SERVER, &ci), 0);
	K.n = 0;
}

int main(void)
{
	test_produce_versions();
	test_produce_multi_topic_error();
	test_produce_acks0();
	test_fetch_versions();
	test_fetch_topic_ids();
	test_metadata_versions();
	test_list_offsets();
	test_offset_commit_fetch();
	test_header_only_apis();
	test_unknown();
	test_segmentation();
	test_many_topics();
	test_out_of_order();
	test_gaps();
	test_bad_input();
	test_close_and_midstream();
	test_pending_bound();
	test_probe();
	test_probe_midstream();
	test_corpus();
	l7h_free(&H);
	return CHECK_DONE();
}
