/* JSON decoder: round trips against the encoder, Hubble spellings, and
 * clear errors for bad input. */
#include "check.h"
#include "fe_examples.h"
#include "flow_json.h"
#include "flow_record.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static struct fe_buf buf;

static const char *reencode(const struct fe_decoded *d)
{
	buf.len = 0;
	if (fe_record_to_json(&d->rec, &buf))
		return "(encode error)";
	return buf.data;
}

static int decode(const char *line, struct fe_decoded *d, char *err, size_t errlen)
{
	return fe_json_decode(line, strlen(line), d, err, errlen);
}

static void test_round_trips(void)
{
	char err[256];
	struct fe_decoded d;
	for (size_t i = 0; i < 8; i++) {
		char name[64];
		snprintf(name, sizeof(name), "decode hubble.md 1.6 line %zu", i + 1);
		CHECK(name, decode(fx_json_lines[i], &d, err, sizeof(err)) == 0);
		snprintf(name, sizeof(name), "re-encode hubble.md 1.6 line %zu byte for byte", i + 1);
		CHECK_STR(name, reencode(&d), fx_json_lines[i]);
		fe_decoded_clear(&d);
	}

	/* decode(encode(x)) == x for the event with every other field. */
	struct flow_event *ev = fx_everything_else();
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf b = { 0 };
	fe_record_to_json(&rec, &b);
	CHECK("decode everything-else event", decode(b.data, &d, err, sizeof(err)) == 0);
	CHECK_STR("everything-else event round trip", reencode(&d), b.data);
	const struct flow_event *x = d.rec.flow;
	CHECK_U64("ip_trace_id u64 max", x->ip_trace_id, UINT64_MAX);
	CHECK_U64("socket_cookie", x->socket_cookie, 12345678901234ull);
	CHECK_U64("policy revision", x->ingress_allowed_by[0].revision, 7);
	CHECK_STR("policy kind", x->ingress_allowed_by[0].kind, "CiliumNetworkPolicy");
	CHECK_U64("flow_stats event", x->stats.event, FE_STATS_END);
	CHECK_U64("flow_stats bytes", x->stats.bytes, 1500);
	CHECK_U64("flow_stats last_seen", x->stats.last_seen_ns, fx_time(2025, 1, 1, 0, 0, 1, 500000000));
	CHECK_U64("l7_info gap", x->l7_info.gap_bytes, 4096);
	CHECK("l7_info truncated", x->l7_info.truncated);
	CHECK_STR("ip src xlated", x->ip_src_xlated, "2001:db8::99");
	CHECK("encrypted", x->encrypted);
	CHECK_U64("sock_xlate_point", x->sock_xlate_point, 2);
	fe_decoded_clear(&d);
	flow_event_free(ev);

	/* Strings with every escape survive a round trip. */
	ev = flow_event_new();
	ev->summary = "a<b>&c \"q\" \\ \x01\x1b\t\n \xe2\x80\xa8 caf\xc3\xa9 \xf0\x9f\x98\x80";
	rec.flow = ev;
	b.len = 0;
	fe_record_to_json(&rec, &b);
	CHECK("decode escapes", decode(b.data, &d, err, sizeof(err)) == 0);
	CHECK_STR("escaped string decodes to the original", d.rec.flow->summary, ev->summary);
	CHECK_STR("escaped string re-encodes identically", reencode(&d), b.data);
	fe_decoded_clear(&d);
	/* invalid UTF-8 is written as U+FFFD and reads back as U+FFFD */
	ev->summary = "x\xffy";
	b.len = 0;
	fe_record_to_json(&rec, &b);
	CHECK("decode replacement char", decode(b.data, &d, err, sizeof(err)) == 0);
	CHECK_STR("invalid byte reads back as U+FFFD", d.rec.flow->summary, "x\xef\xbf\xbdy");
	fe_decoded_clear(&d);
	flow_event_free(ev);
	fe_buf_free(&b);
}

static void test_values(void)
{
	char err[256];
	struct fe_decoded d;

	CHECK("decode example 1", decode(fx_json_lines[0], &d, err, sizeof(err)) == 0);
	const struct flow_event *ev = d.rec.flow;
	CHECK_U64("kind flow", d.rec.kind, FE_REC_FLOW);
	CHECK_U64("time", ev->time_ns, fx_time(2025, 2, 14, 10, 0, 0, 123456789));
	CHECK_STR("uuid", ev->uuid, "0598f6e1-4542-494c-a061-711065e865dd");
	CHECK_U64("verdict", ev->verdict, FE_FORWARDED);
	CHECK_STR("eth src", ev->eth_src, "76:a3:43:b7:98:5c");
	CHECK_U64("l4 tcp", ev->l4, FE_L4_TCP);
	CHECK_U64("sport", ev->sport, 44916);
	CHECK_U64("flags SYN", ev->tcp_flags, FLOW_TCP_SYN);
	CHECK_U64("source ID", ev->source.id, 2864);
	CHECK_STR("source label 2", ev->source.labels[1], "k8s:io.kubernetes.pod.namespace=shop");
	CHECK_STR("workload kind", ev->source.workloads[0].kind, "Deployment");
	CHECK_U64("trace point enum", ev->trace_observation_point, 101);
	CHECK_U64("is_reply false", (uint64_t)(int64_t)ev->is_reply, 0);
	CHECK_U64("ifindex", ev->ifindex, 43);
	CHECK_STR("summary", ev->summary, "TCP Flags: SYN");
	fe_decoded_clear(&d);

	CHECK("decode example 6 (drop)", decode(fx_json_lines[5], &d, err, sizeof(err)) == 0);
	ev = d.rec.flow;
	CHECK("drop: is_reply absent = unknown", ev->is_reply == -1);
	CHECK_U64("drop reason desc", ev->drop_reason_desc, 133);
	CHECK_U64("event sub type", ev->event_sub_type, 133);
	CHECK_STR("file", ev->file_name, "bpf_lxc.c");
	CHECK_STR("destination name", ev->destination_names[0], "cilium.io");
	fe_decoded_clear(&d);

	CHECK("decode example 3 (http response)", decode(fx_json_lines[2], &d, err, sizeof(err)) == 0);
	ev = d.rec.flow;
	CHECK_U64("latency from string", ev->l7.latency_ns, 43567048);
	CHECK_U64("l7 kind", ev->l7.kind, FE_L7K_HTTP);
	CHECK_U64("http code", ev->l7.http.code, 201);
	CHECK_STR("4th header", ev->l7.http.headers[3].key, "X-Request-Id");
	CHECK("reply", ev->reply && ev->is_reply == 1);
	fe_decoded_clear(&d);

	CHECK("decode lost perf", decode(fx_json_lines[7], &d, err, sizeof(err)) == 0);
	CHECK_U64("lost kind", d.rec.kind, FE_REC_LOST);
	CHECK_U64("lost count", d.rec.lost.num_events_lost, 37);
	CHECK_U64("lost cpu", (uint64_t)d.rec.lost.cpu, 3);
	CHECK_STR("lost node", d.rec.node_name, "default/kind-worker");
	CHECK_U64("lost time", d.rec.time_ns, fx_time(2025, 2, 14, 10, 0, 5, 100000000));
	fe_decoded_clear(&d);
	CHECK("decode lost ring", decode(fx_json_lines[6], &d, err, sizeof(err)) == 0);
	CHECK("lost ring: cpu absent", d.rec.lost.cpu == -1);
	fe_decoded_clear(&d);
}

static void test_spellings(void)
{
	char err[256];
	struct fe_decoded d;

	/* lowerCamelCase JSON names, numbers as strings, enums as numbers,
	 * unknown keys and nulls ignored, offsets in timestamps. */
	const char *camel =
		"{\"flow\":{\"time\":\"2025-02-14T11:00:00.5+01:00\",\"nodeName\":\"n1\",\"isReply\":true,"
		"\"l4\":{\"TCP\":{\"sourcePort\":\"80\",\"destinationPort\":443,\"flags\":{\"ACK\":true,\"FIN\":false}}},"
		"\"dropReasonDesc\":\"POLICY_DENIED\",\"trafficDirection\":2,\"verdict\":2,"
		"\"sourceNames\":[\"a.example\"],\"traceObservationPoint\":\"TO_STACK\","
		"\"eventType\":{\"type\":\"1\",\"subType\":133},\"newFieldFromTheFuture\":{\"x\":[1,2]},"
		"\"l7\":null,\"source\":{\"podName\":\"p\",\"clusterName\":\"c\",\"unknown\":1},"
		"\"sourceService\":{\"name\":\"svc\"},\"IP\":{\"source\":\"10.0.0.1\",\"ipVersion\":1}}}";
	CHECK("camelCase line decodes", decode(camel, &d, err, sizeof(err)) == 0);
	const struct flow_event *ev = d.rec.flow;
	CHECK_U64("offset time normalised to UTC", ev->time_ns, fx_time(2025, 2, 14, 10, 0, 0, 500000000));
	CHECK_STR("nodeName", ev->node_name, "n1");
	CHECK("isReply", ev->is_reply == 1);
	CHECK_U64("sourcePort from string", ev->sport, 80);
	CHECK_U64("destinationPort", ev->dport, 443);
	CHECK_U64("flags: only true ones", ev->tcp_flags, FLOW_TCP_ACK);
	CHECK_U64("dropReasonDesc", ev->drop_reason_desc, 133);
	CHECK_U64("enum as number", ev->traffic_direction, FE_EGRESS);
	CHECK_U64("verdict as number", ev->verdict, FE_DROPPED);
	CHECK_STR("sourceNames", ev->source_names[0], "a.example");
	CHECK_U64("traceObservationPoint", ev->trace_observation_point, 3);
	CHECK_U64("eventType type from string", ev->event_type, 1);
	CHECK_U64("eventType subType", ev->event_sub_type, 133);
	CHECK_STR("podName", ev->source.pod_name, "p");
	CHECK_STR("clusterName", ev->source.cluster_name, "c");
	CHECK_STR("sourceService", ev->source_service.name, "svc");
	CHECK_U64("ipVersion number", ev->ip_version, FE_IPV4);
	fe_decoded_clear(&d);

	/* A bare Flow (Hubble's legacy -o json output), CRLF tolerated. */
	CHECK("bare flow decodes",
	      decode("{\"time\":\"2020-01-01T00:00:00Z\",\"verdict\":\"FORWARDED\",\"Summary\":\"UDP\"}\r\n",
	             &d, err, sizeof(err)) == 0);
	CHECK_U64("bare flow verdict", d.rec.flow->verdict, FE_FORWARDED);
	CHECK_U64("bare flow time", d.rec.flow->time_ns, fx_time(2020, 1, 1, 0, 0, 0, 0));
	fe_decoded_clear(&d);

	/* A masked flow takes time and node_name from the wrapper. */
	CHECK("masked flow decodes",
	      decode("{\"flow\":{\"verdict\":\"DROPPED\"},\"node_name\":\"w\",\"time\":\"2025-02-14T10:00:05.100Z\"}",
	             &d, err, sizeof(err)) == 0);
	CHECK_STR("wrapper node_name", d.rec.flow->node_name, "w");
	CHECK_U64("wrapper time", d.rec.flow->time_ns, fx_time(2025, 2, 14, 10, 0, 5, 100000000));
	fe_decoded_clear(&d);

	/* Messages we do not model are skipped, not errors. */
	CHECK_U64("node_status is skipped (1)",
	          (uint64_t)decode("{\"node_status\":{\"state_change\":\"NODE_CONNECTED\",\"node_names\":[\"a\"]},"
	                           "\"time\":\"2025-02-14T10:00:05Z\"}", &d, err, sizeof(err)), 1);
	fe_decoded_clear(&d);
	CHECK_U64("agent_event is skipped (1)",
	          (uint64_t)decode("{\"agent_event\":{\"type\":\"AGENT_STARTED\"}}", &d, err, sizeof(err)), 1);
	fe_decoded_clear(&d);

	/* Times: 1-9 fraction digits, lower-case t/z, leap day. */
	struct { const char *in; uint64_t want; } times[] = {
		{ "2024-02-29T23:59:59.1Z", fx_time(2024, 2, 29, 23, 59, 59, 100000000) },
		{ "2024-02-29t23:59:59.123456789z", fx_time(2024, 2, 29, 23, 59, 59, 123456789) },
		{ "2025-01-01T00:30:00-00:30", fx_time(2025, 1, 1, 1, 0, 0, 0) },
		{ "1970-01-01T00:00:00Z", 0 },
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		char line[128], name[96];
		snprintf(line, sizeof(line), "{\"flow\":{\"time\":\"%s\"}}", times[i].in);
		snprintf(name, sizeof(name), "time %s", times[i].in);
		int rc = decode(line, &d, err, sizeof(err));
		CHECK_U64(name, rc == 0 ? d.rec.flow->time_ns : 1, times[i].want);
		fe_decoded_clear(&d);
	}
}

static void test_errors(void)
{
	struct { const char *in, *err; } cases[] = {
		{ "", "invalid JSON at column 0: '[' or '{' expected near end of file" },
		{ "{\"flow\":{", "invalid JSON at column 9: string or '}' expected near end of file" },
		{ "[1,2]", "expected a JSON object" },
		{ "{\"flow\":{}} x", "invalid JSON at column 13: end of file expected near 'x'" },
		{ "{\"flow\":[]}", "flow: expected an object" },
		{ "{\"flow\":{\"l4\":{\"TCP\":{\"source_port\":\"abc\"}}}}",
		  "flow.l4.TCP.source_port: \"abc\" is not an unsigned integer" },
		{ "{\"flow\":{\"l4\":{\"UDP\":{\"destination_port\":70000}}}}",
		  "flow.l4.UDP.destination_port: 70000 is out of range" },
		{ "{\"flow\":{\"l4\":{\"TCP\":{\"source_port\":-1}}}}", "flow.l4.TCP.source_port: -1 is out of range" },
		{ "{\"flow\":{\"l4\":{\"TCP\":{},\"UDP\":{}}}}", "flow.l4.UDP: more than one member of the l4 oneof is set" },
		{ "{\"flow\":{\"verdict\":\"forwarded\"}}", "flow.verdict: invalid value \"forwarded\" for enum Verdict" },
		{ "{\"flow\":{\"verdict\":true}}", "flow.verdict: expected an enum name or number" },
		{ "{\"flow\":{\"time\":\"2025-02-30T00:00:00Z\"}}",
		  "flow.time: \"2025-02-30T00:00:00Z\" is not an RFC 3339 timestamp" },
		{ "{\"flow\":{\"time\":\"2025-02-14 10:00:00Z\"}}",
		  "flow.time: \"2025-02-14 10:00:00Z\" is not an RFC 3339 timestamp" },
		{ "{\"flow\":{\"time\":\"2025-02-14T10:00:00.1234567891Z\"}}",
		  "flow.time: \"2025-02-14T10:00:00.1234567891Z\" is not an RFC 3339 timestamp" },
		{ "{\"flow\":{\"time\":\"1969-12-31T23:59:59Z\"}}",
		  "flow.time: \"1969-12-31T23:59:59Z\" is before 1970, not supported" },
		{ "{\"flow\":{\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd-too-long\"}}",
		  "flow.uuid: \"0598f6e1-4542-494c-a061-711065e865dd-too\" is too long (at most 36 bytes)" },
		{ "{\"flow\":{\"source\":{\"labels\":[\"a\",3]}}}", "flow.source.labels.1: expected a string" },
		{ "{\"flow\":{\"is_reply\":\"yes\"}}", "flow.is_reply: expected true or false" },
		{ "{\"flow\":{\"l7\":{\"dns\":{},\"http\":{}}}}",
		  "flow.l7.http: more than one member of the l7 record oneof is set" },
		{ "{\"flow\":{\"event_type\":{\"type\":4294967296}}}", "flow.event_type.type: 4294967296 is out of range" },
		{ "{\"flow\":{\"l7\":{\"latency_ns\":\"18446744073709551616\"}}}",
		  "flow.l7.latency_ns: \"18446744073709551616\" is not an unsigned integer in range" },
		{ "{\"flow\":{\"flow_stats\":{\"event\":\"begin\"}}}",
		  "flow.flow_stats.event: expected \"start\", \"update\" or \"end\"" },
		{ "{\"lost_events\":{\"source\":\"DISK\"}}",
		  "lost_events.source: invalid value \"DISK\" for enum LostEventSource" },
		{ "{\"flow\":{},\"lost_events\":{}}", "both \"flow\" and \"lost_events\" are set" },
		{ "{\"flow\":{},\"time\":5}", "time: expected an RFC 3339 timestamp string" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "", name[128];
		struct fe_decoded d;
		int rc = decode(cases[i].in, &d, err, sizeof(err));
		snprintf(name, sizeof(name), "error for %.60s", cases[i].in);
		CHECK(name, rc == -1 && d.ev == NULL);
		snprintf(name, sizeof(name), "error text for %.60s", cases[i].in);
		CHECK_STR(name, err, cases[i].err);
	}
	/* NULL error buffer is allowed. */
	struct fe_decoded d;
	CHECK("NULL err buffer", fe_json_decode("nope", 4, &d, NULL, 0) == -1);
}

/* The fuzz seed corpus (and every crash the fuzzer ever found, kept
 * there as a named file) must keep the fuzz target's property: decode
 * without crashing; what decodes re-encodes stably. */
static void test_fuzz_corpus(void)
{
	const char *dir = "tests/fuzz/corpus/fuzz_flow_json";
	DIR *dp = opendir(dir);
	CHECK("fuzz corpus directory exists (run from the repository root)", dp != NULL);
	if (!dp)
		return;
	struct dirent *de;
	size_t n = 0;
	while ((de = readdir(dp))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], data[65536], err[256], name[300];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		size_t len = f ? fread(data, 1, sizeof(data), f) : 0;
		if (f)
			fclose(f);
		struct fe_decoded d1, d2;
		int rc = fe_json_decode(data, len, &d1, err, sizeof(err));
		bool ok = rc != -1 || err[0];
		if (rc == 0) {
			struct fe_buf a = { 0 }, b = { 0 };
			ok = fe_record_to_json(&d1.rec, &a) == 0 &&
			     fe_json_decode(a.data, a.len, &d2, err, sizeof(err)) == 0 &&
			     fe_record_to_json(&d2.rec, &b) == 0 && a.len == b.len &&
			     memcmp(a.data, b.data, a.len) == 0;
			if (d2.ev)
				fe_decoded_clear(&d2);
			fe_decoded_clear(&d1);
			fe_buf_free(&a);
			fe_buf_free(&b);
		}
		snprintf(name, sizeof(name), "fuzz corpus %s", de->d_name);
		CHECK(name, ok);
		n++;
	}
	closedir(dp);
	CHECK("fuzz corpus has seeds", n >= 10);
}

int main(void)
{
	test_fuzz_corpus();
	test_round_trips();
	test_values();
	test_spellings();
	test_errors();
	fe_buf_free(&buf);
	return CHECK_DONE();
}
