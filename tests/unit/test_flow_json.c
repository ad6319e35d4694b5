/* JSON encoder and Summary strings: exact bytes against hubble.md §1.5/§1.6
 * and protojson/encoding/json rules. */
#include "check.h"
#include "fe_examples.h"
#include "flow_json.h"
#include "flow_names.h"
#include "flow_record.h"

#include <stdlib.h>
#include <string.h>

static char *encode(const struct flow_event *ev, const struct fe_field_mask *mask)
{
	static struct fe_buf b;
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	b.len = 0;
	if (fe_record_to_json_masked(&rec, mask, &b))
		return NULL;
	return b.data;
}

/* The text of `"key":...` up to the next top-level comma of the flow
 * object, for checks of a single field. */
static const char *field(const char *json, const char *key, char *out, size_t size)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	if (!p)
		return "(absent)";
	const char *q = p + strlen(pat);
	int depth = 0;
	bool str = false;
	for (; *q; q++) {
		if (str) {
			if (*q == '\\')
				q++;
			else if (*q == '"')
				str = false;
			continue;
		}
		if (*q == '"')
			str = true;
		else if (*q == '{' || *q == '[')
			depth++;
		else if (*q == '}' || *q == ']') {
			if (depth-- == 0)
				break;
		} else if (*q == ',' && depth == 0)
			break;
	}
	size_t n = (size_t)(q - p);
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void test_examples(void)
{
	struct flow_event *(*mk[])(void) = {
		fx_tcp_syn_to_endpoint, fx_http_request, fx_http_response,
		fx_dns_response, fx_kafka_request, fx_policy_drop,
	};
	const char *names[] = { "tcp syn to-endpoint", "http request", "http response",
	                        "dns response", "kafka request", "policy drop" };
	for (size_t i = 0; i < 6; i++) {
		struct flow_event *ev = mk[i]();
		char name[96];
		snprintf(name, sizeof(name), "hubble.md 1.6 example: %s", names[i]);
		CHECK_STR(name, encode(ev, NULL), fx_json_lines[i]);
		flow_event_free(ev);
	}

	struct fe_buf b = { 0 };
	uint64_t t;
	struct fe_record rec = { .kind = FE_REC_LOST, .node_name = "default/kind-worker" };
	rec.lost = fx_lost_ring(&t);
	rec.time_ns = t;
	CHECK("lost ring encodes", fe_record_to_json(&rec, &b) == 0);
	CHECK_STR("hubble.md 1.6 example: lost HUBBLE_RING_BUFFER", b.data, fx_json_lines[6]);
	b.len = 0;
	rec.lost = fx_lost_perf(&t);
	rec.time_ns = t;
	CHECK("lost perf encodes", fe_record_to_json(&rec, &b) == 0);
	CHECK_STR("hubble.md 1.6 example: lost PERF_EVENT_RING_BUFFER with cpu", b.data, fx_json_lines[7]);

	/* Several lines append to one buffer. */
	size_t first_len = b.len;
	CHECK("append second line", fe_record_to_json(&rec, &b) == 0);
	CHECK_U64("two lines, twice the bytes", b.len, 2 * first_len);

	/* cpu 0 is present (wrapper type); first/last timestamps. */
	b.len = 0;
	rec.lost = (struct fe_lost_event){ .source = FE_LOST_OBSERVER_EVENTS_QUEUE,
	                                   .num_events_lost = 532, .cpu = 0,
	                                   .first_ns = fx_time(2025, 2, 14, 10, 0, 4, 10000000),
	                                   .last_ns = fx_time(2025, 2, 14, 10, 0, 4, 990000000) };
	rec.node_name = NULL;
	rec.time_ns = fx_time(2025, 2, 14, 10, 0, 5, 0);
	fe_record_to_json(&rec, &b);
	CHECK_STR("lost queue: cpu 0 kept, first/last, no node_name", b.data,
	          "{\"lost_events\":{\"source\":\"OBSERVER_EVENTS_QUEUE\",\"num_events_lost\":\"532\","
	          "\"cpu\":0,\"first\":\"2025-02-14T10:00:04.010Z\",\"last\":\"2025-02-14T10:00:04.990Z\"},"
	          "\"time\":\"2025-02-14T10:00:05Z\"}\n");
	fe_buf_free(&b);

	struct fe_record bad = { .kind = 0 };
	struct fe_buf b2 = { 0 };
	CHECK("record without kind is an error", fe_record_to_json(&bad, &b2) == -1 && b2.len == 0);
	fe_buf_free(&b2);
}

static void test_time(void)
{
	char buf[32];
	struct { uint64_t ns; const char *want; } cases[] = {
		{ fx_time(2025, 2, 14, 10, 0, 5, 0), "2025-02-14T10:00:05Z" },
		{ fx_time(2025, 2, 14, 10, 0, 5, 100000000), "2025-02-14T10:00:05.100Z" },
		{ fx_time(2025, 2, 14, 10, 0, 5, 3711402), "2025-02-14T10:00:05.003711402Z" },
		{ fx_time(1970, 1, 1, 0, 20, 34, 567800000), "1970-01-01T00:20:34.567800Z" },
		{ fx_time(2023, 8, 21, 12, 12, 13, 517394084), "2023-08-21T12:12:13.517394084Z" },
		{ fx_time(2024, 2, 29, 23, 59, 59, 1000), "2024-02-29T23:59:59.000001Z" },
		{ fx_time(2000, 3, 1, 0, 0, 0, 1), "2000-03-01T00:00:00.000000001Z" },
		{ fx_time(2100, 12, 31, 1, 2, 3, 120000), "2100-12-31T01:02:03.000120Z" },
		{ 1, "1970-01-01T00:00:00.000000001Z" },
		{ UINT64_MAX, "2554-07-21T23:34:33.709551615Z" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[80];
		size_t n = fe_format_rfc3339(cases[i].ns, buf);
		snprintf(name, sizeof(name), "rfc3339 %s", cases[i].want);
		CHECK_STR(name, buf, cases[i].want);
		CHECK_U64("rfc3339 length returned", n, strlen(cases[i].want));
	}
}

static void test_escaping(void)
{
	struct flow_event *ev = flow_event_new();
	char out[512];
	struct { const char *in, *want, *name; } cases[] = {
		{ "a<b>&c", "\"Summary\":\"a\\u003cb\\u003e\\u0026c\"", "html escapes" },
		{ "q\"b\\s/", "\"Summary\":\"q\\\"b\\\\s/\"", "quote, backslash, slash kept" },
		{ "\b\f\n\r\t", "\"Summary\":\"\\b\\f\\n\\r\\t\"", "short control escapes" },
		{ "\x01\x1b\x1f\x7f", "\"Summary\":\"\\u0001\\u001b\\u001f\x7f\"", "other controls, DEL kept" },
		{ "\xe2\x80\xa8|\xe2\x80\xa9", "\"Summary\":\"\\u2028|\\u2029\"", "U+2028/U+2029" },
		{ "caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd", "\"Summary\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd\"",
		  "valid UTF-8 verbatim" },
		{ "a\xff" "b", "\"Summary\":\"a\\ufffdb\"", "invalid byte" },
		{ "\xe2\x82", "\"Summary\":\"\\ufffd\\ufffd\"", "truncated sequence: one per byte" },
		{ "\xc0\xaf", "\"Summary\":\"\\ufffd\\ufffd\"", "overlong" },
		{ "\xed\xa0\x80", "\"Summary\":\"\\ufffd\\ufffd\\ufffd\"", "surrogate" },
		{ "\xf4\x90\x80\x80", "\"Summary\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "above U+10FFFF" },
		{ "http://x/?a=1&b=<2>", "\"Summary\":\"http://x/?a=1\\u0026b=\\u003c2\\u003e\"", "url" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ev->summary = cases[i].in;
		char name[64];
		snprintf(name, sizeof(name), "escape: %s", cases[i].name);
		CHECK_STR(name, field(encode(ev, NULL), "Summary", out, sizeof(out)), cases[i].want);
	}
	flow_event_free(ev);

	/* the writer scans long strings 16 bytes at a time: an escape at every
	 * position of strings of every length up to 40 */
	struct { const char *ins, *esc; } specials[] = {
		{ "<", "\\u003c" }, { "&", "\\u0026" }, { "\"", "\\\"" }, { "\\", "\\\\" },
		{ "\x01", "\\u0001" }, { "\n", "\\n" }, { "\xff", "\\ufffd" },
		{ "\xc3\xa9", "\xc3\xa9" }, { "\xe2\x80\xa8", "\\u2028" }, { "\x7f", "\x7f" },
	};
	int bad = 0;
	for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
		for (size_t len = 1; len <= 40; len++) {
			for (size_t at = 0; at < len; at++) {
				char in[64], want[96];
				size_t il = strlen(specials[k].ins), wl = strlen(specials[k].esc);
				memset(in, 'x', at);
				memcpy(in + at, specials[k].ins, il);
				memset(in + at + il, 'y', len - at - 1);
				in[at + il + len - at - 1] = '\0';
				want[0] = '"';
				memset(want + 1, 'x', at);
				memcpy(want + 1 + at, specials[k].esc, wl);
				memset(want + 1 + at + wl, 'y', len - at - 1);
				memcpy(want + 1 + at + wl + len - at - 1, "\"", 2);
				struct fe_buf b = { 0 };
				if (fe_json_append_string(&b, in) || strcmp(b.data, want) != 0) {
					if (!bad++)
						printf("escape at %zu of %zu: got %s want %s\n", at, len,
						       b.data ? b.data : "(null)", want);
				}
				fe_buf_free(&b);
			}
		}
	}
	CHECK("escape: every position of strings up to 40 bytes", bad == 0);
	struct fe_buf b = { 0 };
	CHECK("escape: long plain string", fe_json_append_string(&b, "0123456789abcdef0123456789abcdef-") == 0 &&
	      strcmp(b.data, "\"0123456789abcdef0123456789abcdef-\"") == 0);
	fe_buf_free(&b);
}

static void test_fields(void)
{
	struct flow_event *ev = flow_event_new();
	char out[1024];

	CHECK_STR("empty event: only empty endpoints", encode(ev, NULL),
	          "{\"flow\":{\"source\":{},\"destination\":{}}}\n");

	ev->is_reply = 1;
	CHECK_STR("is_reply true", field(encode(ev, NULL), "is_reply", out, sizeof(out)), "\"is_reply\":true");
	CHECK_STR("reply false: absent", field(encode(ev, NULL), "reply", out, sizeof(out)), "(absent)");
	ev->reply = true;
	CHECK_STR("reply only when true", field(encode(ev, NULL), "reply", out, sizeof(out)), "\"reply\":true");
	ev->is_reply = 0;
	CHECK_STR("is_reply false", field(encode(ev, NULL), "is_reply", out, sizeof(out)), "\"is_reply\":false");
	ev->is_reply = -1;
	CHECK_STR("is_reply unknown: absent", field(encode(ev, NULL), "is_reply", out, sizeof(out)), "(absent)");

	ev->l4 = FE_L4_TCP;
	ev->tcp_flags = 0x1ff;
	CHECK_STR("all TCP flags in TCPFlags order", field(encode(ev, NULL), "l4", out, sizeof(out)),
	          "\"l4\":{\"TCP\":{\"flags\":{\"FIN\":true,\"SYN\":true,\"RST\":true,\"PSH\":true,"
	          "\"ACK\":true,\"URG\":true,\"ECE\":true,\"CWR\":true,\"NS\":true}}}");
	ev->tcp_flags = FLOW_TCP_ACK | FLOW_TCP_FIN;
	ev->sport = 1;
	CHECK_STR("only true flags; zero port omitted", field(encode(ev, NULL), "l4", out, sizeof(out)),
	          "\"l4\":{\"TCP\":{\"source_port\":1,\"flags\":{\"FIN\":true,\"ACK\":true}}}");
	ev->l4 = FE_L4_ICMPV6;
	ev->icmp_type = 135;
	ev->icmp_code = 0;
	CHECK_STR("ICMPv6, code 0 omitted", field(encode(ev, NULL), "l4", out, sizeof(out)),
	          "\"l4\":{\"ICMPv6\":{\"type\":135}}");
	ev->l4 = FE_L4_SCTP;
	ev->dport = 2905;
	CHECK_STR("SCTP ports", field(encode(ev, NULL), "l4", out, sizeof(out)),
	          "\"l4\":{\"SCTP\":{\"source_port\":1,\"destination_port\":2905}}");

	/* Enums without a name print as numbers, like protojson. */
	ev->verdict = 9;
	ev->drop_reason_desc = 250;
	encode(ev, NULL);
	CHECK_STR("unknown verdict as number", field(encode(ev, NULL), "verdict", out, sizeof(out)),
	          "\"verdict\":9");
	CHECK_STR("unknown drop reason as number", field(encode(ev, NULL), "drop_reason_desc", out, sizeof(out)),
	          "\"drop_reason_desc\":250");
	ev->verdict = FE_AUDIT;
	CHECK_STR("verdict AUDIT", field(encode(ev, NULL), "verdict", out, sizeof(out)), "\"verdict\":\"AUDIT\"");
	ev->drop_reason_desc = 181;
	CHECK_STR("drop reason POLICY_DENY", field(encode(ev, NULL), "drop_reason_desc", out, sizeof(out)),
	          "\"drop_reason_desc\":\"POLICY_DENY\"");
	flow_event_free(ev);

	/* Hubble fields flowd does not produce, extensions and their order. */
	ev = fx_everything_else();
	CHECK_STR("all other Hubble fields and the extensions, in order", encode(ev, NULL),
	          "{\"flow\":{\"emitter\":{\"name\":\"flowd\"},\"auth_type\":\"SPIRE\","
	          "\"IP\":{\"source\":\"2001:db8::1\",\"source_xlated\":\"2001:db8::99\",\"destination\":\"2001:db8::2\","
	          "\"ipVersion\":\"IPv6\",\"encrypted\":true},\"source\":{},\"destination\":{},\"Type\":\"SOCK\","
	          "\"node_labels\":[\"kubernetes.io/arch=amd64\"],\"event_type\":{\"type\":7},"
	          "\"source_service\":{\"name\":\"web\",\"namespace\":\"shop\"},\"policy_match_type\":2,"
	          "\"ip_trace_id\":{\"trace_id\":\"18446744073709551615\",\"ip_option_type\":136},"
	          "\"debug_capture_point\":\"DBG_CAPTURE_DELIVERY\",\"proxy_port\":15001,"
	          "\"trace_context\":{\"parent\":{\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}},"
	          "\"sock_xlate_point\":\"SOCK_XLATE_POINT_POST_DIRECTION_FWD\",\"socket_cookie\":\"12345678901234\","
	          "\"cgroup_id\":\"42\",\"Summary\":\"TCP\",\"ingress_allowed_by\":[{\"name\":\"allow-web\","
	          "\"namespace\":\"shop\",\"labels\":[\"k8s:io.cilium.k8s.policy.name=allow-web\"],\"revision\":\"7\","
	          "\"kind\":\"CiliumNetworkPolicy\"}],\"policy_log\":[\"audit\"],"
	          "\"flow_stats\":{\"event\":\"end\",\"packets\":10,\"bytes\":1500,\"first_seen\":\"2025-01-01T00:00:00Z\","
	          "\"last_seen\":\"2025-01-01T00:00:01.500Z\"},\"l7_info\":{\"gap_bytes\":4096,\"truncated\":true}}}\n");

	ev->stats = (struct fe_flow_stats){ FE_STATS_START, 1, 60, 0, 0 };
	CHECK_STR("flow_stats start, zero times omitted",
	          field(encode(ev, NULL), "flow_stats", out, sizeof(out)),
	          "\"flow_stats\":{\"event\":\"start\",\"packets\":1,\"bytes\":60}");
	flow_event_free(ev);

	/* Kafka response: negative error code, l7 present although empty record. */
	ev = flow_event_new();
	ev->type = FE_TYPE_L7;
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.kind = FE_L7K_KAFKA;
	ev->l7.kafka.error_code = -1;
	ev->l7.kafka.correlation_id = 8;
	CHECK_STR("kafka negative int32", field(encode(ev, NULL), "l7", out, sizeof(out)),
	          "\"l7\":{\"type\":\"RESPONSE\",\"kafka\":{\"error_code\":-1,\"correlation_id\":8}}");
	ev->l7.kind = FE_L7K_DNS;
	memset(&ev->l7.dns, 0, sizeof(ev->l7.dns));
	CHECK_STR("l7 record present even when empty", field(encode(ev, NULL), "l7", out, sizeof(out)),
	          "\"l7\":{\"type\":\"RESPONSE\",\"dns\":{}}");
	flow_event_free(ev);
}

static const char *summary_of(struct flow_event *ev)
{
	static char buf[512];
	if (fe_set_summary(ev))
		return "(error)";
	snprintf(buf, sizeof(buf), "%s", ev->summary ? ev->summary : "(null)");
	return buf;
}

static void test_summary(void)
{
	struct flow_event *ev = flow_event_new();
	ev->has_ip = true;
	ev->ip_version = FE_IPV4;
	ev->l4 = FE_L4_TCP;
	ev->tcp_flags = FLOW_TCP_SYN | FLOW_TCP_ACK;
	CHECK_STR("summary TCP SYN, ACK", summary_of(ev), "TCP Flags: SYN, ACK");
	ev->tcp_flags = FLOW_TCP_FIN | FLOW_TCP_ACK;
	CHECK_STR("summary TCP ACK, FIN (Hubble order)", summary_of(ev), "TCP Flags: ACK, FIN");
	ev->tcp_flags = 0x1ff;
	CHECK_STR("summary all TCP flags", summary_of(ev),
	          "TCP Flags: SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS");
	ev->tcp_flags = 0;
	CHECK_STR("summary TCP no flags", summary_of(ev), "TCP Flags: ");
	ev->l4 = FE_L4_UDP;
	CHECK_STR("summary UDP", summary_of(ev), "UDP");
	ev->l4 = FE_L4_SCTP;
	CHECK_STR("summary SCTP", summary_of(ev), "SCTP");
	ev->l4 = FE_L4_NONE;
	CHECK_STR("summary IPv4 without L4", summary_of(ev), "IPv4");
	ev->ip_version = FE_IPV6;
	CHECK_STR("summary IPv6 without L4", summary_of(ev), "IPv6");
	ev->has_ip = false;
	ev->has_ethernet = true;
	CHECK_STR("summary Ethernet only", summary_of(ev), "Ethernet");
	ev->has_ethernet = false;
	CHECK_STR("summary of nothing is absent", summary_of(ev), "(null)");

	struct { enum fe_l4_kind k; uint32_t t, c; const char *want; } icmp[] = {
		{ FE_L4_ICMPV4, 8, 0, "ICMPv4 EchoRequest" },
		{ FE_L4_ICMPV4, 0, 0, "ICMPv4 EchoReply" },
		{ FE_L4_ICMPV4, 3, 1, "ICMPv4 DestinationUnreachable(Host)" },
		{ FE_L4_ICMPV4, 3, 3, "ICMPv4 DestinationUnreachable(Port)" },
		{ FE_L4_ICMPV4, 3, 15, "ICMPv4 DestinationUnreachable(PrecedenceCutoff)" },
		{ FE_L4_ICMPV4, 3, 16, "ICMPv4 DestinationUnreachable(Code: 16)" },
		{ FE_L4_ICMPV4, 5, 2, "ICMPv4 Redirect(TOS+Net)" },
		{ FE_L4_ICMPV4, 11, 0, "ICMPv4 TimeExceeded(TTLExceeded)" },
		{ FE_L4_ICMPV4, 8, 1, "ICMPv4 EchoRequest(Code: 1)" },
		{ FE_L4_ICMPV4, 42, 7, "ICMPv4 42(7)" },
		{ FE_L4_ICMPV6, 135, 0, "ICMPv6 NeighborSolicitation" },
		{ FE_L4_ICMPV6, 128, 0, "ICMPv6 EchoRequest" },
		{ FE_L4_ICMPV6, 1, 4, "ICMPv6 DestinationUnreachable(PortUnreachable)" },
		{ FE_L4_ICMPV6, 3, 0, "ICMPv6 TimeExceeded(HopLimitExceeded)" },
		{ FE_L4_ICMPV6, 143, 0, "ICMPv6 143(0)" },
		{ FE_L4_ICMPV6, 2, 0, "ICMPv6 PacketTooBig" },
	};
	ev->has_ip = true;
	for (size_t i = 0; i < sizeof(icmp) / sizeof(icmp[0]); i++) {
		ev->l4 = icmp[i].k;
		ev->icmp_type = icmp[i].t;
		ev->icmp_code = icmp[i].c;
		char name[96];
		snprintf(name, sizeof(name), "summary %s", icmp[i].want);
		CHECK_STR(name, summary_of(ev), icmp[i].want);
	}
	ev->type = FE_TYPE_SOCK;
	ev->l4 = FE_L4_TCP;
	CHECK_STR("summary trace-sock: protocol name", summary_of(ev), "TCP");
	flow_event_free(ev);

	/* L7 */
	ev = flow_event_new();
	ev->type = FE_TYPE_L7;
	ev->l7.kind = FE_L7K_DNS;
	ev->l7.type = FE_L7_REQUEST;
	ev->l7.dns.query = "api.github.com.";
	ev->l7.dns.qtypes = fx_strv(ev, 1, "A");
	ev->l7.dns.n_qtypes = 1;
	ev->l7.dns.observation_source = "proxy";
	CHECK_STR("summary DNS query", summary_of(ev), "DNS Query api.github.com. A");
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.dns.query = "nwt.se.";
	ev->l7.dns.qtypes = fx_strv(ev, 1, "AAAA");
	ev->l7.dns.ttl = 4294967295u;
	CHECK_STR("summary DNS answer without IPs (two spaces)", summary_of(ev),
	          "DNS Answer  TTL: 4294967295 (Proxy nwt.se. AAAA)");
	ev->l7.dns.query = "x.svc.cluster.local.";
	ev->l7.dns.qtypes = fx_strv(ev, 1, "A");
	ev->l7.dns.rcode = 3;
	CHECK_STR("summary DNS NXDOMAIN", summary_of(ev),
	          "DNS Answer RCode: Non-Existent Domain TTL: 4294967295 (Proxy x.svc.cluster.local. A)");
	ev->l7.dns.rcode = 2;
	CHECK_STR("summary DNS SERVFAIL keeps gopacket's trailing space", summary_of(ev),
	          "DNS Answer RCode: Server Failure  TTL: 4294967295 (Proxy x.svc.cluster.local. A)");
	ev->l7.dns.rcode = 5;
	CHECK_STR("summary DNS REFUSED", summary_of(ev),
	          "DNS Answer RCode: Query Refused TTL: 4294967295 (Proxy x.svc.cluster.local. A)");
	ev->l7.dns.rcode = 11;
	CHECK_STR("summary DNS unknown rcode", summary_of(ev),
	          "DNS Answer RCode: Unknown TTL: 4294967295 (Proxy x.svc.cluster.local. A)");
	ev->l7.dns.rcode = 0;
	ev->l7.dns.observation_source = NULL;
	ev->l7.dns.query = "www.example.com.";
	ev->l7.dns.ips = fx_strv(ev, 2, "93.184.216.34", "2606:2800:220:1::");
	ev->l7.dns.n_ips = 2;
	ev->l7.dns.cnames = fx_strv(ev, 2, "a.example.net.", "b\"x.example.net.");
	ev->l7.dns.n_cnames = 2;
	ev->l7.dns.qtypes = fx_strv(ev, 2, "A", "AAAA");
	ev->l7.dns.n_qtypes = 2;
	ev->l7.dns.ttl = 60;
	CHECK_STR("summary DNS answer with IPs and CNAMEs, not from a proxy", summary_of(ev),
	          "DNS Answer \"93.184.216.34,2606:2800:220:1::\" CNAMEs: \"a.example.net.,b\\\"x.example.net.\" "
	          "TTL: 60 (Query www.example.com. A,AAAA)");
	ev->l7.dns.n_ips = 0;
	ev->l7.dns.cnames = fx_strv(ev, 1, "t\x01\xff\xc3\xa9.");
	ev->l7.dns.n_cnames = 1;
	CHECK_STR("summary DNS CNAME only, Go %q escapes", summary_of(ev),
	          "DNS Answer CNAMEs: \"t\\x01\\xff\xc3\xa9.\" TTL: 60 (Query www.example.com. A,AAAA)");

	ev->l7.kind = FE_L7K_HTTP;
	memset(&ev->l7.http, 0, sizeof(ev->l7.http));
	ev->l7.type = FE_L7_REQUEST;
	ev->l7.http.protocol = "HTTP/1.1";
	ev->l7.http.method = "GET";
	ev->l7.http.url = "http://web/";
	CHECK_STR("summary HTTP request", summary_of(ev), "HTTP/1.1 GET http://web/");
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.http.code = 200;
	ev->l7.latency_ns = 6999999;
	CHECK_STR("summary HTTP response, whole ms truncated", summary_of(ev),
	          "HTTP/1.1 200 6ms (GET http://web/)");
	ev->l7.latency_ns = 0;
	ev->l7.http.protocol = "HTTP/2";
	ev->l7.http.code = 503;
	CHECK_STR("summary HTTP/2 response without latency", summary_of(ev),
	          "HTTP/2 503 0ms (GET http://web/)");
	ev->l7.type = FE_L7_SAMPLE;
	CHECK_STR("summary HTTP sample: none", summary_of(ev), "(null)");

	ev->l7.kind = FE_L7K_KAFKA;
	memset(&ev->l7.kafka, 0, sizeof(ev->l7.kafka));
	ev->l7.type = FE_L7_RESPONSE;
	ev->l7.kafka.api_key = "fetch";
	ev->l7.kafka.correlation_id = 12;
	ev->l7.kafka.topic = "deathstar-plans";
	ev->l7.kafka.error_code = -1;
	CHECK_STR("summary Kafka response", summary_of(ev),
	          "Kafka response fetch correlation id 12 topic 'deathstar-plans' return code -1");
	ev->l7.type = FE_L7_REQUEST;
	CHECK_STR("summary Kafka request", summary_of(ev),
	          "Kafka request fetch correlation id 12 topic 'deathstar-plans'");
	flow_event_free(ev);
}

static void test_field_mask(void)
{
	struct fe_field_mask *m = NULL;
	char err[256];
	struct flow_event *ev = fx_tcp_syn_to_endpoint();

	const char *p1[] = { "time,IP", "l4.TCP.source_port" };
	CHECK("mask parses", fe_field_mask_new(p1, 2, &m, err, sizeof(err)) == 0);
	CHECK_U64("mask has 3 top-level fields", fe_field_mask_size(m), 3);
	CHECK_STR("mask time,IP,l4.TCP.source_port", encode(ev, m),
	          "{\"flow\":{\"time\":\"2025-02-14T10:00:00.123456789Z\",\"IP\":{\"source\":\"10.244.1.60\","
	          "\"destination\":\"10.244.1.5\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":44916}}},"
	          "\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n");
	fe_field_mask_free(m);

	const char *p2[] = { "source.pod_name , destination.identity", "l4.UDP", "l7.http.url" };
	CHECK("mask with spaces parses", fe_field_mask_new(p2, 3, &m, err, sizeof(err)) == 0);
	CHECK("wants: a kept leaf", fe_field_mask_wants(m, "l7.http.url"));
	CHECK("wants: a parent of a kept field", fe_field_mask_wants(m, "l7.http") &&
	      fe_field_mask_wants(m, "l7") && fe_field_mask_wants(m, "source"));
	CHECK("wants: inside a whole field", fe_field_mask_wants(m, "l4.UDP.source_port"));
	CHECK("wants: not a sibling", !fe_field_mask_wants(m, "l7.http.headers") &&
	      !fe_field_mask_wants(m, "source.labels") && !fe_field_mask_wants(m, "l4.TCP"));
	CHECK("wants: not an absent field", !fe_field_mask_wants(m, "Summary") &&
	      !fe_field_mask_wants(m, "destination_names"));
	CHECK("wants: no mask keeps all", fe_field_mask_wants(NULL, "Summary"));
	CHECK_STR("partial masks keep parents; inactive oneof is dropped", encode(ev, m),
	          "{\"flow\":{\"l4\":{},\"source\":{\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\"},"
	          "\"destination\":{\"identity\":45219},\"l7\":{}},"
	          "\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n");
	fe_field_mask_free(m);

	const char *p3[] = { "source.pod_name", "source", "Summary", "flow_stats.packets" };
	CHECK("mask normalization parses", fe_field_mask_new(p3, 4, &m, err, sizeof(err)) == 0);
	CHECK_STR("whole field wins over sub-path; extension masked", encode(ev, m),
	          "{\"flow\":{\"source\":{\"ID\":2864,\"identity\":32753,\"cluster_name\":\"default\",\"namespace\":\"shop\","
	          "\"labels\":[\"k8s:app=frontend\",\"k8s:io.kubernetes.pod.namespace=shop\"],"
	          "\"pod_name\":\"frontend-7d9c8b6f4-x2k9p\",\"workloads\":[{\"name\":\"frontend\",\"kind\":\"Deployment\"}]},"
	          "\"Summary\":\"TCP Flags: SYN\",\"flow_stats\":{}},"
	          "\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n");
	fe_field_mask_free(m);

	const char *bad1[] = { "source.podname" };
	CHECK("unknown sub-field rejected", fe_field_mask_new(bad1, 1, &m, err, sizeof(err)) == -1 && !m);
	CHECK_STR("unknown sub-field message", err,
	          "invalid field mask path \"source.podname\": unknown field \"podname\"");
	const char *bad2[] = { "uuid.x" };
	CHECK("path into a scalar rejected", fe_field_mask_new(bad2, 1, &m, err, sizeof(err)) == -1);
	CHECK_STR("path into a scalar message", err,
	          "invalid field mask path \"uuid.x\": \"uuid\" has no sub-fields");
	const char *bad3[] = { "time,,IP" };
	CHECK("empty path rejected", fe_field_mask_new(bad3, 1, &m, err, sizeof(err)) == -1);
	const char *bad4[] = { "ip" };
	CHECK("field names are case-sensitive (IP, not ip)", fe_field_mask_new(bad4, 1, &m, err, sizeof(err)) == -1);

	/* An empty mask keeps everything; lost events are never masked. */
	CHECK("empty mask parses", fe_field_mask_new(NULL, 0, &m, err, sizeof(err)) == 0);
	CHECK_STR("empty mask = no mask", encode(ev, m), fx_json_lines[0]);
	fe_field_mask_free(m);
	const char *p4[] = { "time" };
	fe_field_mask_new(p4, 1, &m, err, sizeof(err));
	struct fe_buf b = { 0 };
	uint64_t t;
	struct fe_record rec = { .kind = FE_REC_LOST, .node_name = "default/kind-worker" };
	rec.lost = fx_lost_perf(&t);
	rec.time_ns = t;
	fe_record_to_json_masked(&rec, m, &b);
	CHECK_STR("lost events ignore the mask", b.data, fx_json_lines[7]);
	fe_buf_free(&b);
	fe_field_mask_free(m);
	flow_event_free(ev);
}

/* flowd extension flow.conntrack: written as given (ct_entry_json()),
 * last, maskable, and decoded back to the same text. */
static void test_conntrack_extension(void)
{
	struct flow_event *ev = fx_tcp_syn_to_endpoint();
	ev->conntrack_json = fe_strdup(ev, "{\"state\":\"SYN_SENT\",\"nat\":[\"DNAT\"],\"original\":{"
	                                   "\"source\":\"198.18.0.2\",\"source_port\":40000,\"destination\":"
	                                   "\"198.18.0.1\",\"destination_port\":8080},\"direction\":\"original\"}");
	const char *line = encode(ev, NULL);
	const char *tail = "\"conntrack\":{\"state\":\"SYN_SENT\",\"nat\":[\"DNAT\"],\"original\":{"
	                   "\"source\":\"198.18.0.2\",\"source_port\":40000,\"destination\":\"198.18.0.1\","
	                   "\"destination_port\":8080},\"direction\":\"original\"}},\"node_name\"";
	CHECK("conntrack: last key of the flow", strstr(line, tail) != NULL);
	struct fe_decoded d;
	char err[256];
	CHECK("conntrack: decodes", fe_json_decode(line, strlen(line), &d, err, sizeof(err)) == 0);
	CHECK_STR("conntrack: decoded text", d.ev->conntrack_json ? d.ev->conntrack_json : "", ev->conntrack_json);
	fe_decoded_clear(&d);
	struct fe_field_mask *m = NULL;
	const char *p[] = { "conntrack" };
	CHECK("conntrack: maskable", fe_field_mask_new(p, 1, &m, err, sizeof(err)) == 0);
	CHECK_STR("conntrack: mask keeps only it", encode(ev, m),
	          "{\"flow\":{\"conntrack\":{\"state\":\"SYN_SENT\",\"nat\":[\"DNAT\"],\"original\":{"
	          "\"source\":\"198.18.0.2\",\"source_port\":40000,\"destination\":\"198.18.0.1\","
	          "\"destination_port\":8080},\"direction\":\"original\"}},"
	          "\"node_name\":\"default/kind-worker\",\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n");
	fe_field_mask_free(m);
	flow_event_free(ev);
}

static void test_names(void)
{
	uint32_t v;
	CHECK_STR("drop text 133", fe_drop_reason_text(133), "Policy denied");
	CHECK_STR("drop text 151", fe_drop_reason_text(151), "Stale or unroutable IP");
	CHECK("drop text unknown", fe_drop_reason_text(250) == NULL);
	CHECK_STR("drop name 205", fe_enum_name(&fe_enum_drop_reason, 205), "DROP_PUNT_PROXY");
	CHECK("drop name lookup", fe_enum_value(&fe_enum_drop_reason, "POLICY_DENIED", false, &v) == 0 && v == 133);
	CHECK("verdict nocase", fe_enum_value(&fe_enum_verdict, "dropped", true, &v) == 0 && v == 2);
	CHECK("verdict case-sensitive", fe_enum_value(&fe_enum_verdict, "dropped", false, &v) == -1);
	CHECK_STR("trace point 0", fe_trace_point_text(0), "to-endpoint");
	CHECK_STR("trace point 13", fe_trace_point_text(13), "to-crypto");
	CHECK("trace point 14 unknown", fe_trace_point_text(14) == NULL);
	CHECK_STR("TO_ENDPOINT enum 101", fe_enum_name(&fe_enum_trace_point, 101), "TO_ENDPOINT");
	CHECK_STR("identity 2", fe_reserved_identity_name(2), "world");
	CHECK_STR("identity 0", fe_reserved_identity_name(0), "unknown");
	CHECK("identity 11 not reserved", fe_reserved_identity_name(11) == NULL);
	CHECK_STR("policy match 2", fe_policy_match_text(2), "L3-L4");
	CHECK_STR("policy match 9", fe_policy_match_text(9), "unknown");
	CHECK("monitor type l7", fe_monitor_type_value("l7", &v) == 0 && v == 129);
}

int main(void)
{
	test_examples();
	test_time();
	test_escaping();
	test_fields();
	test_summary();
	test_field_mask();
	test_names();
	test_conntrack_extension();
	return CHECK_DONE();
}
