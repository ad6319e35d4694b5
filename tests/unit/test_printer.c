/* Printers: exact lines of hubble.md §3.1 (compact), §3.2 (dict), §3.3
 * (table), time layouts, colors and terminal-escape sanitising. */
#include "check.h"
#include "fe_examples.h"
#include "flow_names.h"
#include "flow_record.h"
#include "printer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Print records with options; returns the output (static buffer). */
static const char *render(const struct fe_printer_options *o, const struct fe_record *recs, size_t n)
{
	static char *out;
	size_t len;
	free(out);
	out = NULL;
	FILE *f = open_memstream(&out, &len);
	struct fe_printer *p = fe_printer_new(o, f);
	for (size_t i = 0; i < n; i++)
		if (fe_printer_print(p, &recs[i]))
			return "(print error)";
	if (fe_printer_flush(p))
		return "(flush error)";
	fe_printer_free(p);
	fclose(f);
	return out;
}

static const char *render1(const struct fe_printer_options *o, const struct flow_event *ev)
{
	struct fe_record r = { .kind = FE_REC_FLOW, .flow = ev };
	return render(o, &r, 1);
}

static void endpoint(struct flow_event *ev, struct fe_endpoint *e, uint32_t identity, const char *ns,
                     const char *pod)
{
	e->identity = identity;
	e->namespace_ = ns ? fe_strdup(ev, ns) : NULL;
	e->pod_name = pod ? fe_strdup(ev, pod) : NULL;
}

#define FRONTEND "frontend-7d9c8b6f4-x2k9p"
#define CHECKOUT "checkout-5f6c7d8b9-qwz7l"
#define COREDNS "coredns-7db6d8ff4d-2q9wv"

static struct flow_event *l34(uint64_t t, const char *src, uint16_t sp, const char *dst, uint16_t dp)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = t;
	ev->has_ip = true;
	strcpy(ev->ip_src, src);
	strcpy(ev->ip_dst, dst);
	ev->ip_version = strchr(src, ':') ? FE_IPV6 : FE_IPV4;
	ev->l4 = FE_L4_TCP;
	ev->sport = sp;
	ev->dport = dp;
	ev->type = FE_TYPE_L3_L4;
	ev->verdict = FE_FORWARDED;
	ev->event_type = FE_MSG_TRACE;
	ev->is_reply = 0;
	return ev;
}

static uint64_t t_(int s, uint32_t ms)
{
	return fx_time(2025, 2, 14, 10, 0, s, ms * 1000000u);
}

/* The 16 example lines of hubble.md §3.1, built as events. */
static size_t build_section_3_1(struct flow_event **evs, struct fe_record *recs)
{
	size_t n = 0;
	struct flow_event *ev;

	evs[n++] = fx_tcp_syn_to_endpoint();

	ev = l34(t_(0, 124), "10.244.1.5", 8080, "10.244.1.60", 44916);  /* SYN-ACK reply */
	endpoint(ev, &ev->source, 45219, "shop", CHECKOUT);
	endpoint(ev, &ev->destination, 32753, "shop", FRONTEND);
	ev->tcp_flags = FLOW_TCP_SYN | FLOW_TCP_ACK;
	ev->is_reply = 1;
	fe_set_summary(ev);
	evs[n++] = ev;

	ev = l34(t_(0, 130), "10.244.1.60", 41501, "10.244.0.12", 53);
	ev->l4 = FE_L4_UDP;
	endpoint(ev, &ev->source, 32753, "shop", FRONTEND);
	endpoint(ev, &ev->destination, 15410, "kube-system", COREDNS);
	ev->event_sub_type = 3;  /* to-stack */
	fe_set_summary(ev);
	evs[n++] = ev;

	ev = l34(t_(0, 140), "10.244.1.60", 0, "8.8.8.8", 0);
	ev->l4 = FE_L4_ICMPV4;
	ev->icmp_type = 8;
	endpoint(ev, &ev->source, 32753, "shop", FRONTEND);
	ev->destination.identity = 2;
	ev->event_sub_type = 11;  /* to-network */
	fe_set_summary(ev);
	evs[n++] = ev;

	evs[n++] = fx_http_request();
	evs[n++] = fx_http_response();

	ev = fx_http_request();
	ev->time_ns = t_(1, 170);
	ev->sport = 44920;
	ev->verdict = FE_DROPPED;
	ev->l7.http.method = "PUT";
	ev->l7.http.url = "http://checkout.shop.svc.cluster.local:8080/admin";
	fe_set_summary(ev);
	evs[n++] = ev;

	ev = fx_dns_response();
	ev->time_ns = t_(2, 1);
	strcpy(ev->ip_src, "10.244.1.60");
	strcpy(ev->ip_dst, "10.244.0.12");
	ev->sport = 41501;
	ev->dport = 53;
	struct fe_endpoint tmp = ev->source;
	ev->source = ev->destination;
	ev->destination = tmp;
	ev->l7.type = FE_L7_REQUEST;
	ev->l7.dns.n_ips = ev->l7.dns.n_rrtypes = 0;
	ev->l7.dns.ttl = 0;
	ev->reply = false;
	ev->is_reply = 0;
	fe_set_summary(ev);
	evs[n++] = ev;

	evs[n++] = fx_dns_response();
	evs[n++] = fx_kafka_request();
	evs[n++] = fx_policy_drop();

	ev = fx_policy_drop();
	ev->event_type = FE_MSG_POLICY_VERDICT;
	ev->event_sub_type = 0;
	ev->policy_match_type = 0;
	evs[n++] = ev;

	ev = l34(t_(4, 810), "10.0.0.7", 47194, "10.0.0.9", 80);
	endpoint(ev, &ev->source, 32753, "default", "tiefighter");
	endpoint(ev, &ev->destination, 45219, "default", "deathstar-689f66b57d-2jf5v");
	ev->event_type = FE_MSG_POLICY_VERDICT;
	ev->policy_match_type = 2;
	ev->traffic_direction = FE_INGRESS;
	ev->tcp_flags = FLOW_TCP_SYN;
	fe_set_summary(ev);
	evs[n++] = ev;

	ev = l34(t_(4, 900), "10.0.0.7", 0, "10.96.0.10", 80);
	endpoint(ev, &ev->source, 32753, "default", "tiefighter");
	endpoint(ev, &ev->destination, 45219, "default", "deathstar-689f66b57d-2jf5v");
	ev->type = FE_TYPE_SOCK;
	ev->event_type = FE_MSG_TRACE_SOCK;
	ev->sock_xlate_point = 2;
	ev->verdict = FE_TRANSLATED;
	ev->is_reply = -1;
	fe_set_summary(ev);
	evs[n++] = ev;

	for (size_t i = 0; i < n; i++)
		recs[i] = (struct fe_record){ .kind = FE_REC_FLOW, .flow = evs[i] };
	recs[n++] = (struct fe_record){ .kind = FE_REC_LOST, .time_ns = t_(5, 0),
		.lost = { .source = FE_LOST_HUBBLE_RING_BUFFER, .num_events_lost = 1, .cpu = -1 } };
	recs[n++] = (struct fe_record){ .kind = FE_REC_LOST, .time_ns = t_(5, 0),
		.lost = { .source = FE_LOST_OBSERVER_EVENTS_QUEUE, .num_events_lost = 532, .cpu = -1,
		          .first_ns = t_(4, 10), .last_ns = t_(4, 990) } };
	return n;
}

static const char section_3_1[] =
"Feb 14 10:00:00.123: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) to-endpoint FORWARDED (TCP Flags: SYN)\n"
"Feb 14 10:00:00.124: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) <- shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) to-endpoint FORWARDED (TCP Flags: SYN, ACK)\n"
"Feb 14 10:00:00.130: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) -> kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) to-stack FORWARDED (UDP)\n"
"Feb 14 10:00:00.140: shop/frontend-7d9c8b6f4-x2k9p (ID:32753) -> 8.8.8.8 (world) to-network FORWARDED (ICMPv4 EchoRequest)\n"
"Feb 14 10:00:01.118: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-request FORWARDED (HTTP/1.1 POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders)\n"
"Feb 14 10:00:01.162: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) <- shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-response FORWARDED (HTTP/1.1 201 43ms (POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders))\n"
"Feb 14 10:00:01.170: shop/frontend-7d9c8b6f4-x2k9p:44920 (ID:32753) -> shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-request DROPPED (HTTP/1.1 PUT http://checkout.shop.svc.cluster.local:8080/admin)\n"
"Feb 14 10:00:02.001: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) -> kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-request proxy FORWARDED (DNS Query api.github.com. A)\n"
"Feb 14 10:00:02.019: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) <- kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-response proxy FORWARDED (DNS Answer \"140.82.121.6\" TTL: 30 (Proxy api.github.com. A))\n"
"Feb 14 10:00:03.500: empire/empire-hq-6c5d4b7f9-8lq2w:51230 (ID:50112) -> empire/kafka-broker-0:9092 (ID:48230) kafka-request FORWARDED (Kafka request produce correlation id 8 topic 'empire-announce')\n"
"Feb 14 10:00:04.700: shop/frontend-7d9c8b6f4-x2k9p:52200 (ID:32753) <> cilium.io:443 (ID:16777219) Policy denied DROPPED (TCP Flags: SYN)\n"
"Feb 14 10:00:04.700: shop/frontend-7d9c8b6f4-x2k9p:52200 (ID:32753) <> cilium.io:443 (ID:16777219) policy-verdict:none EGRESS DENIED (TCP Flags: SYN)\n"
"Feb 14 10:00:04.810: default/tiefighter:47194 (ID:32753) -> default/deathstar-689f66b57d-2jf5v:80 (ID:45219) policy-verdict:L3-L4 INGRESS ALLOWED (TCP Flags: SYN)\n"
"Feb 14 10:00:04.900: default/tiefighter (ID:32753) <> default/deathstar-689f66b57d-2jf5v:80 (ID:45219) post-xlate-fwd TRANSLATED (TCP)\n"
"Feb 14 10:00:05.000 EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 1\n"
"Feb 14 10:00:05.000 EVENTS LOST: OBSERVER_EVENTS_QUEUE CPU(0) 532 (first: Feb 14 10:00:04.010, last: Feb 14 10:00:04.990)\n";

static void test_compact(void)
{
	struct flow_event *evs[32];
	struct fe_record recs[32];
	size_t n = build_section_3_1(evs, recs);
	struct fe_printer_options o = { .format = FE_OUTPUT_COMPACT, .color = FE_COLOR_NEVER };
	const char *out = render(&o, recs, n);
	CHECK_STR("compact: the hubble.md 3.1 example lines", out, section_3_1);
	/* line by line, to point at a failing one */
	const char *want = section_3_1, *got = out;
	for (int i = 1; *want; i++) {
		const char *we = strchr(want, '\n'), *ge = strchr(got, '\n');
		char name[48];
		snprintf(name, sizeof(name), "compact 3.1 line %d", i);
		CHECK(name, ge && we - want == ge - got && memcmp(want, got, (size_t)(we - want)) == 0);
		if (!ge)
			break;
		want = we + 1;
		got = ge + 1;
	}

	/* --print-node-name goes before the colon; not on lost lines. */
	o.print_node_name = true;
	struct fe_record two[2] = { recs[0], recs[n - 2] };
	CHECK_STR("compact --print-node-name", render(&o, two, 2),
	          "Feb 14 10:00:00.123 [default/kind-worker]: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> "
	          "shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) to-endpoint FORWARDED (TCP Flags: SYN)\n"
	          "Feb 14 10:00:05.000 EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 1\n");
	o.print_node_name = false;

	/* --numeric: IPs instead of names, IPv6 in brackets. */
	o.numeric = true;
	CHECK_STR("compact --numeric", render1(&o, evs[10]),
	          "Feb 14 10:00:04.700: 10.244.1.60:52200 (ID:32753) <> 104.198.14.52:443 (ID:16777219) "
	          "Policy denied DROPPED (TCP Flags: SYN)\n");
	struct flow_event *v6 = l34(t_(6, 0), "2001:db8::1", 51000, "2001:db8::2", 443);
	v6->event_sub_type = 11;
	v6->is_reply = 0;
	v6->source.identity = 1;
	v6->destination.identity = 9;
	fe_set_summary(v6);
	CHECK_STR("compact IPv6 brackets, reserved identities", render1(&o, v6),
	          "Feb 14 10:00:06.000: [2001:db8::1]:51000 (host) -> [2001:db8::2]:443 (world-ipv4) "
	          "to-network FORWARDED (TCP Flags: )\n");
	o.numeric = false;

	/* Services, names, ICMP without ports, Ethernet-only flows. */
	v6->source_service.name = "web";
	v6->source_service.namespace_ = "shop";
	v6->destination_names = fx_strv(v6, 2, "a.example", "b.example");
	v6->n_destination_names = 2;
	v6->destination.identity = 0;
	v6->source.identity = 11;
	CHECK_STR("compact service and DNS names", render1(&o, v6),
	          "Feb 14 10:00:06.000: shop/web:51000 (ID:11) -> a.example,b.example:443 (unknown) "
	          "to-network FORWARDED (TCP Flags: )\n");
	v6->source.pod_name = "web-1";
	v6->source.namespace_ = "other";
	CHECK_STR("compact pod shown with the service's namespace (as Hubble)", render1(&o, v6),
	          "Feb 14 10:00:06.000: shop/web-1:51000 (ID:11) -> a.example,b.example:443 (unknown) "
	          "to-network FORWARDED (TCP Flags: )\n");
	v6->has_ip = false;
	v6->has_ethernet = true;
	strcpy(v6->eth_src, "aa:bb:cc:dd:ee:01");
	strcpy(v6->eth_dst, "ff:ff:ff:ff:ff:ff");
	v6->l4 = FE_L4_NONE;
	fe_set_summary(v6);
	CHECK_STR("compact Ethernet-only flow shows MACs", render1(&o, v6),
	          "Feb 14 10:00:06.000: aa:bb:cc:dd:ee:01 (ID:11) -> ff:ff:ff:ff:ff:ff (unknown) "
	          "to-network FORWARDED (Ethernet)\n");
	flow_event_free(v6);

	for (size_t i = 0; i < n - 2; i++)
		flow_event_free(evs[i]);
}

static void test_types_verdicts(void)
{
	struct fe_printer_options o = { .format = FE_OUTPUT_COMPACT, .color = FE_COLOR_NEVER };
	struct flow_event *ev = l34(t_(7, 0), "10.0.0.1", 1000, "10.0.0.2", 80);
	char type[128];

	struct { uint32_t type, sub; const char *want; } types[] = {
		{ FE_MSG_TRACE, 0, "to-endpoint" }, { FE_MSG_TRACE, 10, "from-network" },
		{ FE_MSG_TRACE, 13, "to-crypto" }, { FE_MSG_TRACE, 20, "20" },
		{ FE_MSG_DROP, 151, "Stale or unroutable IP" }, { FE_MSG_DROP, 181, "Policy denied by denylist" },
		{ FE_MSG_DROP, 2, "Invalid packet" }, { FE_MSG_DROP, 250, "250, 0" },
		{ FE_MSG_DROP, 0x185, "Policy denied" },  /* sub_type is 8 bits in Cilium: 0x85 */
		{ 42, 0, "UNKNOWN" }, { 0, 0, "UNKNOWN" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ev->event_type = types[i].type;
		ev->event_sub_type = types[i].sub;
		fe_flow_type_text(ev, type, sizeof(type));
		char name[80];
		snprintf(name, sizeof(name), "type column %u/%u", types[i].type, types[i].sub);
		CHECK_STR(name, type, types[i].want);
	}
	ev->event_type = FE_MSG_CAPTURE;
	ev->debug_capture_point = 4;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column capture", type, "DBG_CAPTURE_DELIVERY");
	ev->debug_capture_point = 99;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column capture unknown point", type, "99");
	ev->event_type = FE_MSG_TRACE_SOCK;
	ev->sock_xlate_point = 3;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column trace-sock", type, "pre-xlate-rev");
	ev->sock_xlate_point = 0;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column trace-sock unknown", type, "SOCK_XLATE_POINT_UNKNOWN");
	ev->event_type = FE_MSG_POLICY_VERDICT;
	ev->policy_match_type = 4;
	ev->traffic_direction = FE_DIR_UNKNOWN;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column policy verdict, unknown direction", type,
	          "policy-verdict:all TRAFFIC_DIRECTION_UNKNOWN");

	ev->type = FE_TYPE_L7;
	ev->l7.type = FE_L7_RESPONSE;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column L7 without record", type, "l7-response");
	ev->l7.kind = FE_L7K_DNS;
	ev->l7.type = FE_L7_REQUEST;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column DNS without observation source (as Hubble: trailing space)", type,
	          "dns-request ");
	ev->l7.kind = FE_L7K_KAFKA;
	ev->l7.type = FE_L7_SAMPLE;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column kafka sample", type, "kafka-sample");
	ev->l7.kind = FE_L7K_HTTP;
	ev->l7.type = 9;
	fe_flow_type_text(ev, type, sizeof(type));
	CHECK_STR("type column unknown L7 type number", type, "http-9");
	ev->l7.kind = FE_L7K_NONE;
	ev->l7.type = 0;
	ev->type = FE_TYPE_L3_L4;

	/* Verdict column. */
	ev->event_type = FE_MSG_POLICY_VERDICT;
	ev->policy_match_type = 3;
	ev->traffic_direction = FE_EGRESS;
	ev->verdict = FE_AUDIT;
	ev->summary = "TCP Flags: SYN";
	CHECK_STR("policy verdict AUDIT -> AUDITED", render1(&o, ev),
	          "Feb 14 10:00:07.000: 10.0.0.1:1000 (unknown) -> 10.0.0.2:80 (unknown) "
	          "policy-verdict:L4-Only EGRESS AUDITED (TCP Flags: SYN)\n");
	ev->verdict = FE_REDIRECTED;
	struct fe_policy *pol = fe_alloc(ev, 3 * sizeof(*pol));
	pol[0] = (struct fe_policy){ .name = "allow-web", .kind = "CiliumNetworkPolicy" };
	pol[1] = (struct fe_policy){ .name = "no-kind" };
	pol[2] = (struct fe_policy){ .name = "cluster-wide", .kind = "CiliumClusterwideNetworkPolicy" };
	ev->egress_allowed_by = pol;
	ev->n_egress_allowed_by = 3;
	o.print_policy_names = true;
	CHECK_STR("--print-policy-names: BY name (kind), policies without kind skipped", render1(&o, ev),
	          "Feb 14 10:00:07.000: 10.0.0.1:1000 (unknown) -> 10.0.0.2:80 (unknown) "
	          "policy-verdict:L4-Only EGRESS ALLOWED BY allow-web (CiliumNetworkPolicy), "
	          "cluster-wide (CiliumClusterwideNetworkPolicy) (TCP Flags: SYN)\n");
	ev->verdict = FE_ERROR;
	CHECK_STR("policy verdict ERROR -> DENIED (no denying policies listed)", render1(&o, ev),
	          "Feb 14 10:00:07.000: 10.0.0.1:1000 (unknown) -> 10.0.0.2:80 (unknown) "
	          "policy-verdict:L4-Only EGRESS DENIED (TCP Flags: SYN)\n");
	o.print_policy_names = false;
	ev->event_type = FE_MSG_TRACE;
	ev->event_sub_type = 3;
	ev->verdict = 0;
	ev->ip_trace_id = 77;
	ev->auth_type = 1;
	CHECK_STR("VERDICT_UNKNOWN, IP trace id and auth in the summary", render1(&o, ev),
	          "Feb 14 10:00:07.000: 10.0.0.1:1000 (unknown) -> 10.0.0.2:80 (unknown) "
	          "to-stack VERDICT_UNKNOWN (IP Trace ID: 77; TCP Flags: SYN; Auth: SPIRE)\n");
	ev->verdict = 12;
	ev->auth_type = 0;
	ev->ip_trace_id = 0;
	CHECK_STR("verdict without a name prints its number", render1(&o, ev),
	          "Feb 14 10:00:07.000: 10.0.0.1:1000 (unknown) -> 10.0.0.2:80 (unknown) to-stack 12 (TCP Flags: SYN)\n");
	flow_event_free(ev);
}

static void test_colors_and_escapes(void)
{
	struct fe_printer_options o = { .format = FE_OUTPUT_COMPACT, .color = FE_COLOR_ALWAYS };
	struct flow_event *ev = fx_tcp_syn_to_endpoint();
	CHECK_STR("compact colors: host cyan, port yellow, identity magenta, FORWARDED green",
	          render1(&o, ev),
	          "Feb 14 10:00:00.123: \x1b[36mshop/frontend-7d9c8b6f4-x2k9p:\x1b[33m44916\x1b[0m\x1b[0m "
	          "\x1b[35m(ID:32753)\x1b[0m -> \x1b[36mshop/checkout-5f6c7d8b9-qwz7l:\x1b[33m8080\x1b[0m\x1b[0m "
	          "\x1b[35m(ID:45219)\x1b[0m to-endpoint \x1b[32mFORWARDED\x1b[0m (TCP Flags: SYN)\n");
	ev->verdict = FE_DROPPED;
	ev->auth_type = 2;
	ev->destination.pod_name = "evil\x1b[31mpod\r";
	CHECK_STR("compact colors: DROPPED red, auth fail red; ESC and CR in values escaped",
	          render1(&o, ev),
	          "Feb 14 10:00:00.123: \x1b[36mshop/frontend-7d9c8b6f4-x2k9p:\x1b[33m44916\x1b[0m\x1b[0m "
	          "\x1b[35m(ID:32753)\x1b[0m -> \x1b[36mshop/evil^[[31mpod\\r:\x1b[33m8080\x1b[0m\x1b[0m "
	          "\x1b[35m(ID:45219)\x1b[0m to-endpoint \x1b[31mDROPPED\x1b[0m (TCP Flags: SYN; Auth: "
	          "\x1b[31mTEST_ALWAYS_FAIL\x1b[0m)\n");
	o.color = FE_COLOR_NEVER;
	ev->summary = "a\x1b]0;title\x07" "b\rc";
	CHECK_STR("no colors: escapes still sanitised, other controls kept", render1(&o, ev),
	          "Feb 14 10:00:00.123: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> "
	          "shop/evil^[[31mpod\\r:8080 (ID:45219) to-endpoint DROPPED (a^[]0;title\x07" "b\\rc; "
	          "Auth: TEST_ALWAYS_FAIL)\n");
	/* auto: a memstream is not a terminal. */
	o.color = FE_COLOR_AUTO;
	ev->summary = "x";
	CHECK("auto colors off when not a terminal", strchr(render1(&o, ev), '\x1b') == NULL);
	/* table never colors */
	o.color = FE_COLOR_ALWAYS;
	o.format = FE_OUTPUT_TABLE;
	CHECK("table output never has colors", strchr(render1(&o, ev), '\x1b') == NULL);
	o.format = FE_OUTPUT_DICT;
	CHECK("dict output has colors", strstr(render1(&o, ev), "\x1b[31mDROPPED\x1b[0m") != NULL);
	flow_event_free(ev);

	enum fe_color_mode cm;
	CHECK("color mode parse ALWAYS (any case)", fe_color_mode_parse("ALWAYS", &cm) == 0 && cm == FE_COLOR_ALWAYS);
	CHECK("color mode parse bad", fe_color_mode_parse("sometimes", &cm) == -1);
	enum fe_output_format of;
	CHECK("output tab = table", fe_output_format_parse("tab", &of) == 0 && of == FE_OUTPUT_TABLE);
	CHECK("output jsonpb = json", fe_output_format_parse("jsonpb", &of) == 0 && of == FE_OUTPUT_JSON);
	CHECK("output bad", fe_output_format_parse("yaml", &of) == -1);
}

static void test_time_formats(void)
{
	char buf[48];
	struct { enum fe_time_format f; uint64_t ns; const char *want; } cases[] = {
		{ FE_TIME_STAMP_MILLI, t_(5, 100), "Feb 14 10:00:05.100" },
		{ FE_TIME_STAMP_MILLI, fx_time(2024, 7, 7, 13, 7, 46, 726999999), "Jul  7 13:07:46.726" },
		{ FE_TIME_YEAR_MONTH_DAY, t_(5, 100), "2025-02-14" },
		{ FE_TIME_YEAR_MONTH_DAY_HOUR, t_(5, 100), "2025-02-14T10Z" },
		{ FE_TIME_YEAR_MONTH_DAY_HOUR_MINUTE, t_(5, 100), "2025-02-14T10:00Z" },
		{ FE_TIME_RFC3339, t_(5, 100), "2025-02-14T10:00:05Z" },
		{ FE_TIME_RFC3339_MILLI, t_(5, 100), "2025-02-14T10:00:05.1Z" },
		{ FE_TIME_RFC3339_MILLI, fx_time(2025, 2, 14, 10, 0, 5, 123456789), "2025-02-14T10:00:05.123Z" },
		{ FE_TIME_RFC3339_MILLI, fx_time(2025, 2, 14, 10, 0, 5, 999999), "2025-02-14T10:00:05Z" },
		{ FE_TIME_RFC3339_MICRO, fx_time(2025, 2, 14, 10, 0, 5, 123456789), "2025-02-14T10:00:05.123456Z" },
		{ FE_TIME_RFC3339_MICRO, fx_time(2025, 2, 14, 10, 0, 5, 120000), "2025-02-14T10:00:05.00012Z" },
		{ FE_TIME_RFC3339_NANO, fx_time(2025, 2, 14, 10, 0, 5, 123456789), "2025-02-14T10:00:05.123456789Z" },
		{ FE_TIME_RFC3339_NANO, t_(5, 0), "2025-02-14T10:00:05Z" },
		{ FE_TIME_RFC1123Z, t_(5, 100), "Fri, 14 Feb 2025 10:00:05 +0000" },
		{ FE_TIME_RFC1123Z, fx_time(1970, 1, 1, 0, 0, 1, 0), "Thu, 01 Jan 1970 00:00:01 +0000" },
		{ FE_TIME_RFC1123Z, fx_time(2024, 2, 29, 23, 59, 59, 0), "Thu, 29 Feb 2024 23:59:59 +0000" },
		{ FE_TIME_STAMP_MILLI, 0, "N/A" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[96];
		fe_format_time(cases[i].f, cases[i].ns, buf, sizeof(buf));
		snprintf(name, sizeof(name), "time format %d: %s", (int)cases[i].f, cases[i].want);
		CHECK_STR(name, buf, cases[i].want);
	}
	enum fe_time_format tf;
	CHECK("time format parse RFC3339Micro", fe_time_format_parse("RFC3339Micro", &tf) == 0 &&
	      tf == FE_TIME_RFC3339_MICRO);
	CHECK("time format names are case-sensitive", fe_time_format_parse("rfc3339", &tf) == -1);

	struct fe_printer_options o = { .format = FE_OUTPUT_COMPACT, .time_format = FE_TIME_RFC3339_NANO };
	struct flow_event *ev = fx_kafka_request();
	CHECK_STR("compact with --time-format RFC3339Nano", render1(&o, ev),
	          "2025-02-14T10:00:03.500112004Z: empire/empire-hq-6c5d4b7f9-8lq2w:51230 (ID:50112) -> "
	          "empire/kafka-broker-0:9092 (ID:48230) kafka-request FORWARDED "
	          "(Kafka request produce correlation id 8 topic 'empire-announce')\n");
	ev->time_ns = 0;
	o.time_format = FE_TIME_STAMP_MILLI;
	CHECK("missing time prints N/A", strncmp(render1(&o, ev), "N/A: empire/", 12) == 0);
	flow_event_free(ev);
}

static void test_dict(void)
{
	struct fe_printer_options o = { .format = FE_OUTPUT_DICT, .color = FE_COLOR_NEVER };
	struct flow_event *drop = fx_policy_drop(), *syn = fx_tcp_syn_to_endpoint();
	struct fe_record recs[3] = {
		{ .kind = FE_REC_FLOW, .flow = drop },
		{ .kind = FE_REC_FLOW, .flow = syn },
		{ .kind = FE_REC_LOST, .time_ns = t_(5, 0),
		  .lost = { .source = FE_LOST_PERF_EVENT_RING_BUFFER, .num_events_lost = 37, .cpu = 3 } },
	};
	CHECK_STR("dict: hubble.md 3.2 block, separator before every record but the first",
	          render(&o, recs, 3),
	          "  TIMESTAMP: Feb 14 10:00:04.700\n"
	          "     SOURCE: shop/frontend-7d9c8b6f4-x2k9p:52200\n"
	          "DESTINATION: cilium.io:443\n"
	          "       TYPE: Policy denied\n"
	          "    VERDICT: DROPPED\n"
	          "    SUMMARY: TCP Flags: SYN\n"
	          "------------\n"
	          "  TIMESTAMP: Feb 14 10:00:00.123\n"
	          "     SOURCE: shop/frontend-7d9c8b6f4-x2k9p:44916\n"
	          "DESTINATION: shop/checkout-5f6c7d8b9-qwz7l:8080\n"
	          "       TYPE: to-endpoint\n"
	          "    VERDICT: FORWARDED\n"
	          "    SUMMARY: TCP Flags: SYN\n"
	          "------------\n"
	          "  TIMESTAMP: Feb 14 10:00:05.000\n"
	          "     SOURCE: PERF_EVENT_RING_BUFFER\n"
	          "       TYPE: EVENTS LOST\n"
	          "    VERDICT: -\n"
	          "    SUMMARY: CPU(3) - 37\n");
	o.print_node_name = true;
	CHECK_STR("dict --print-node-name, lost event without node shows -", render(&o, recs + 1, 2),
	          "  TIMESTAMP: Feb 14 10:00:00.123\n"
	          "       NODE: default/kind-worker\n"
	          "     SOURCE: shop/frontend-7d9c8b6f4-x2k9p:44916\n"
	          "DESTINATION: shop/checkout-5f6c7d8b9-qwz7l:8080\n"
	          "       TYPE: to-endpoint\n"
	          "    VERDICT: FORWARDED\n"
	          "    SUMMARY: TCP Flags: SYN\n"
	          "------------\n"
	          "  TIMESTAMP: Feb 14 10:00:05.000\n"
	          "       NODE: -\n"
	          "     SOURCE: PERF_EVENT_RING_BUFFER\n"
	          "       TYPE: EVENTS LOST\n"
	          "    VERDICT: -\n"
	          "    SUMMARY: CPU(3) - 37\n");
	flow_event_free(drop);
	flow_event_free(syn);
}

static void test_table(void)
{
	/* Hubble's own printer test flow (hubble.md 3.3). */
	struct flow_event *ev = flow_event_new();
	ev->time_ns = 1234567800000ull;
	ev->has_ip = true;
	strcpy(ev->ip_src, "1.1.1.1");
	strcpy(ev->ip_dst, "2.2.2.2");
	ev->l4 = FE_L4_TCP;
	ev->sport = 31793;
	ev->dport = 8080;
	ev->verdict = FE_DROPPED;
	ev->event_type = FE_MSG_DROP;
	ev->event_sub_type = 133;
	ev->summary = "TCP Flags: SYN";
	ev->node_name = "k8s1";
	struct fe_printer_options o = { .format = FE_OUTPUT_TABLE };
	CHECK_STR("table: hubble.md 3.3 example", render1(&o, ev),
	          "TIMESTAMP             SOURCE          DESTINATION    TYPE            VERDICT   SUMMARY\n"
	          "Jan  1 00:20:34.567   1.1.1.1:31793   2.2.2.2:8080   Policy denied   DROPPED   TCP Flags: SYN\n");

	struct flow_event *http = fx_http_response();
	struct fe_record recs[3] = {
		{ .kind = FE_REC_FLOW, .flow = ev },
		{ .kind = FE_REC_FLOW, .flow = http },
		{ .kind = FE_REC_LOST, .time_ns = t_(5, 0), .node_name = NULL,
		  .lost = { .source = FE_LOST_HUBBLE_RING_BUFFER, .num_events_lost = 1, .cpu = -1 } },
	};
	o.print_node_name = true;
	/* SOURCE: longest cell 34 runes + 3 padding = 37; DESTINATION 35 + 3. */
	CHECK_STR("table: columns sized over all rows, NODE column, lost row", render(&o, recs, 3),
	          "TIMESTAMP             NODE                  SOURCE                               DESTINATION"
	          "                           TYPE            VERDICT     SUMMARY\n"
	          "Jan  1 00:20:34.567   k8s1                  1.1.1.1:31793                        2.2.2.2:8080"
	          "                          Policy denied   DROPPED     TCP Flags: SYN\n"
	          "Feb 14 10:00:01.162   default/kind-worker   shop/checkout-5f6c7d8b9-qwz7l:8080   "
	          "shop/frontend-7d9c8b6f4-x2k9p:44916   http-response   FORWARDED   "
	          "HTTP/1.1 201 43ms (POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders)\n"
	          "Feb 14 10:00:05.000   -                     HUBBLE_RING_BUFFER                   -"
	          "                                     EVENTS LOST     -           CPU(0) - 1\n");

	/* Widths count runes, not bytes. */
	ev->summary = "x";
	ev->destination_names = fx_strv(ev, 1, "\xc3\xa9t\xc3\xa9.example");
	ev->n_destination_names = 1;
	o.print_node_name = false;
	CHECK_STR("table: width in runes", render1(&o, ev),
	          /* "été.example:8080" is 16 runes (18 bytes): column 19 */
	          "TIMESTAMP             SOURCE          DESTINATION        TYPE            VERDICT   SUMMARY\n"
	          "Jan  1 00:20:34.567   1.1.1.1:31793   \xc3\xa9t\xc3\xa9.example:8080   Policy denied   DROPPED   x\n");

	/* Nothing printed: nothing written, not even the header. */
	CHECK_STR("table: no records, no output", render(&o, NULL, 0), "");
	flow_event_free(http);
	flow_event_free(ev);
}

static void test_json_and_errors(void)
{
	struct flow_event *ev = fx_tcp_syn_to_endpoint();
	struct fe_printer_options o = { .format = FE_OUTPUT_JSON, .color = FE_COLOR_ALWAYS };
	CHECK_STR("json output: the encoder's line, no colors", render1(&o, ev), fx_json_lines[0]);
	struct fe_field_mask *m;
	char err[128];
	const char *paths[] = { "verdict" };
	fe_field_mask_new(paths, 1, &m, err, sizeof(err));
	o.field_mask = m;
	CHECK_STR("json output with field mask", render1(&o, ev),
	          "{\"flow\":{\"verdict\":\"FORWARDED\"},\"node_name\":\"default/kind-worker\","
	          "\"time\":\"2025-02-14T10:00:00.123456789Z\"}\n");
	fe_field_mask_free(m);

	/* A write error is reported, not swallowed. */
	FILE *ro = fopen("/dev/null", "r");
	struct fe_printer_options c = { .format = FE_OUTPUT_COMPACT };
	struct fe_printer *p = fe_printer_new(&c, ro);
	struct fe_record r = { .kind = FE_REC_FLOW, .flow = ev };
	CHECK("write error is returned", fe_printer_print(p, &r) == -1);
	struct fe_record bad = { .kind = 0 };
	errno = 0;
	CHECK("bad record is EINVAL", fe_printer_print(p, &bad) == -1 && errno == EINVAL);
	fe_printer_free(p);
	fclose(ro);
	flow_event_free(ev);
}

int main(void)
{
	test_compact();
	test_types_verdicts();
	test_colors_and_escapes();
	test_time_formats();
	test_dict();
	test_table();
	test_json_and_errors();
	return CHECK_DONE();
}
