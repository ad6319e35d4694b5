/* Filters: flags -> FlowFilters (Hubble's raw form, --print-raw-filters),
 * conflicts and value errors, and matching with real values. */
#include "check.h"
#include "fe_examples.h"
#include "filter.h"
#include "flow_record.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char err[512];

/* Filters from a NULL-terminated argument list; NULL (err set) on error. */
static struct fe_filters *mk(const char *first, ...)
{
	const char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	struct fe_filters *f = fe_filters_new();
	for (int i = 0; i < argc;) {
		int r = fe_filters_parse_arg(f, argc, (char *const *)argv, &i, err, sizeof(err));
		if (r < 0) {
			fe_filters_free(f);
			return NULL;
		}
		if (r == 0) {
			snprintf(err, sizeof(err), "not a filter flag: %s", argv[i]);
			fe_filters_free(f);
			return NULL;
		}
	}
	if (fe_filters_finish(f, err, sizeof(err))) {
		fe_filters_free(f);
		return NULL;
	}
	return f;
}

static const char *yaml(const struct fe_filters *f)
{
	static struct fe_buf b;
	b.len = 0;
	if (!f)
		return err;
	if (fe_filters_to_yaml(f, &b))
		return "(yaml error)";
	return b.data;
}

/* The error of a flag list that must fail. */
static const char *fails(const char *first, ...)
{
	const char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	err[0] = '\0';
	struct fe_filters *f = fe_filters_new();
	int rc = 0;
	for (int i = 0; i < argc && rc == 0;) {
		int r = fe_filters_parse_arg(f, argc, (char *const *)argv, &i, err, sizeof(err));
		if (r < 0)
			rc = -1;
		else if (r == 0)
			i++;
	}
	if (rc == 0)
		rc = fe_filters_finish(f, err, sizeof(err));
	fe_filters_free(f);
	return rc ? err : "(no error)";
}

static struct flow_event *flow(const char *src, uint16_t sp, const char *dst, uint16_t dp, enum fe_l4_kind l4)
{
	struct flow_event *ev = flow_event_new();
	ev->time_ns = fx_time(2025, 2, 14, 10, 0, 0, 0);
	ev->has_ip = true;
	strcpy(ev->ip_src, src);
	strcpy(ev->ip_dst, dst);
	ev->ip_version = strchr(src, ':') ? FE_IPV6 : FE_IPV4;
	ev->l4 = l4;
	ev->sport = sp;
	ev->dport = dp;
	ev->type = FE_TYPE_L3_L4;
	ev->verdict = FE_FORWARDED;
	ev->event_type = 4;
	ev->event_sub_type = 11;
	ev->traffic_direction = FE_EGRESS;
	ev->is_reply = 0;
	return ev;
}

static bool m(const struct fe_filters *f, const struct flow_event *ev)
{
	return f && fe_filters_match_flow(f, ev);
}

static void test_raw_output(void)
{
	struct fe_filters *f;

	f = mk("-t", "drop", "-n", "kube-system", "--not", "--label", "k8s:k8s-app=kube-dns", NULL);
	CHECK_STR("print-raw-filters: hubble.md 4.3 example", yaml(f),
	          "allowlist:\n"
	          "    - '{\"source_pod\":[\"kube-system/\"],\"event_type\":[{\"type\":1}]}'\n"
	          "    - '{\"destination_pod\":[\"kube-system/\"],\"event_type\":[{\"type\":1}]}'\n"
	          "denylist:\n"
	          "    - '{\"source_label\":[\"k8s:k8s-app=kube-dns\"]}'\n"
	          "    - '{\"destination_label\":[\"k8s:k8s-app=kube-dns\"]}'\n");
	CHECK_U64("2 allow filters", fe_filters_count(f, false), 2);
	CHECK_U64("2 deny filters", fe_filters_count(f, true), 2);
	fe_filters_free(f);

	f = mk(NULL);
	CHECK_STR("no filters: {}", yaml(f), "{}\n");
	fe_filters_free(f);

	f = mk("--from-ip", "10.0.0.1", "--from-ip", "10.0.0.0/8", "--protocol", "TCP", NULL);
	CHECK_STR("from-only flags: one filter, values in order, value kept as given", yaml(f),
	          "allowlist:\n    - '{\"source_ip\":[\"10.0.0.1\",\"10.0.0.0/8\"],\"protocol\":[\"TCP\"]}'\n");
	fe_filters_free(f);

	f = mk("--ip", "10.0.0.5", NULL);
	CHECK_STR("one either-side flag: source and destination filters (as Hubble)", yaml(f),
	          "allowlist:\n    - '{\"source_ip\":[\"10.0.0.5\"]}'\n    - '{\"destination_ip\":[\"10.0.0.5\"]}'\n");
	fe_filters_free(f);

	f = mk("--ip", "10.0.0.5", "--port", "80", NULL);
	CHECK_STR("--ip and --port: each on either side (4 filters; flowd's fix of the pairing)", yaml(f),
	          "allowlist:\n"
	          "    - '{\"source_ip\":[\"10.0.0.5\"],\"source_port\":[\"80\"]}'\n"
	          "    - '{\"source_ip\":[\"10.0.0.5\"],\"destination_port\":[\"80\"]}'\n"
	          "    - '{\"destination_ip\":[\"10.0.0.5\"],\"source_port\":[\"80\"]}'\n"
	          "    - '{\"destination_ip\":[\"10.0.0.5\"],\"destination_port\":[\"80\"]}'\n");
	fe_filters_free(f);

	f = mk("--verdict", "dropped", "--type", "trace:to-endpoint", "--type", "l7", "--tcp-flags", "syn,ACK",
	       "--ip-version", "v6", "--traffic-direction", "Egress", "--from-identity", "world",
	       "--drop-reason-desc", "POLICY_DENIED", "--interface", "eth0", "--workload", "Deployment/web",
	       "--http-header", "X-Id:a:b", "--ip-trace-id", "18446744073709551615", "--unencrypted", NULL);
	CHECK_STR("every value type in Hubble's JSON form and field order", yaml(f),
	          "allowlist:\n"
	          "    - '{\"source_workload\":[{\"name\":\"web\",\"kind\":\"Deployment\"}],\"traffic_direction\":[\"EGRESS\"],"
	          "\"verdict\":[\"DROPPED\"],\"drop_reason_desc\":[\"POLICY_DENIED\"],\"interface\":[{\"name\":\"eth0\"}],"
	          "\"event_type\":[{\"type\":4,\"match_sub_type\":true},{\"type\":129}],\"source_identity\":[2],"
	          "\"http_header\":[{\"key\":\"X-Id\",\"value\":\"a:b\"}],\"tcp_flags\":[{\"SYN\":true,\"ACK\":true}],"
	          "\"ip_version\":[\"IPv6\"],\"ip_trace_id\":[\"18446744073709551615\"],\"encrypted\":[false]}'\n"
	          "    - '{\"destination_workload\":[{\"name\":\"web\",\"kind\":\"Deployment\"}],\"traffic_direction\":[\"EGRESS\"],"
	          "\"verdict\":[\"DROPPED\"],\"drop_reason_desc\":[\"POLICY_DENIED\"],\"interface\":[{\"name\":\"eth0\"}],"
	          "\"event_type\":[{\"type\":4,\"match_sub_type\":true},{\"type\":129}],\"source_identity\":[2],"
	          "\"http_header\":[{\"key\":\"X-Id\",\"value\":\"a:b\"}],\"tcp_flags\":[{\"SYN\":true,\"ACK\":true}],"
	          "\"ip_version\":[\"IPv6\"],\"ip_trace_id\":[\"18446744073709551615\"],\"encrypted\":[false]}'\n");
	fe_filters_free(f);

	/* Namespaces become pod filters; -n qualifies --pod of the same side. */
	f = mk("-n", "shop", "--pod", "frontend", NULL);
	CHECK_STR("-n with --pod: pod in that namespace, either side", yaml(f),
	          "allowlist:\n    - '{\"source_pod\":[\"shop/frontend\"]}'\n    - '{\"destination_pod\":[\"shop/frontend\"]}'\n");
	fe_filters_free(f);
	f = mk("--from-namespace", "a", "--to-namespace", "b", NULL);
	CHECK_STR("from/to namespace", yaml(f),
	          "allowlist:\n    - '{\"source_pod\":[\"a/\"],\"destination_pod\":[\"b/\"]}'\n");
	fe_filters_free(f);
	f = mk("-A", NULL);
	CHECK_STR("--all-namespaces", yaml(f),
	          "allowlist:\n    - '{\"source_pod\":[\"/\"]}'\n    - '{\"destination_pod\":[\"/\"]}'\n");
	fe_filters_free(f);

	/* --dns-query is stored as an RE2 regex that Hubble understands too. */
	f = mk("--dns-query", "*.GitHub.com.", NULL);
	CHECK_STR("--dns-query glob as a dns_query regex", yaml(f),
	          "allowlist:\n    - '{\"dns_query\":[\"(?i)^[-._0-9a-z]*\\\\.github\\\\.com\\\\.?$\"]}'\n");
	fe_filters_free(f);

	/* YAML quoting: single quotes doubled; long lines folded at spaces. */
	f = mk("--http-path", "it's", NULL);
	CHECK_STR("yaml doubles single quotes", yaml(f), "allowlist:\n    - '{\"http_path\":[\"it''s\"]}'\n");
	fe_filters_free(f);
	f = mk("--from-label", "k8s:app in (frontend, checkout, payment, shipping, recommendation, ads)", NULL);
	CHECK_STR("yaml folds a long scalar at the first space past column 80", yaml(f),
	          "allowlist:\n    - '{\"source_label\":[\"k8s:app in (frontend, checkout, payment, shipping, recommendation,\n"
	          "      ads)\"]}'\n");
	fe_filters_free(f);
	f = mk("--http-path", "a\x7f", NULL);
	CHECK_STR("yaml double-quotes what it cannot print", yaml(f),
	          "allowlist:\n    - \"{\\\"http_path\\\":[\\\"a\\x7F\\\"]}\"\n");
	fe_filters_free(f);
}

static void test_errors(void)
{
	CHECK_STR("conflict --ip/--from-ip", fails("--ip", "1.1.1.1", "--from-ip", "2.2.2.2", NULL),
	          "filters --from-ip and --ip cannot be combined");
	CHECK_STR("conflict --port/--to-port", fails("--to-port", "1", "--port", "2", NULL),
	          "filters --port and --to-port cannot be combined");
	CHECK_STR("conflict --namespace/--to-pod", fails("-n", "a", "--to-pod", "x", NULL),
	          "filters --to-pod and --namespace cannot be combined");
	CHECK_STR("conflict --encrypted/--unencrypted", fails("--encrypted", "--unencrypted", NULL),
	          "filters --encrypted and --unencrypted cannot be combined");
	CHECK_STR("conflicts are per list: --ip and --not --from-ip is fine",
	          fails("--ip", "1.1.1.1", "--not", "--from-ip", "2.2.2.2", NULL), "(no error)");
	CHECK_STR("namespace conflict", fails("-n", "a", "--pod", "b/x", NULL),
	          "namespace conflict: \"a\" does not contain \"b/x\"");
	CHECK_STR("pod and service namespaces", fails("--from-pod", "a/x", "--from-service", "b/y", NULL),
	          "namespace of service \"b/y\" conflict with pod \"a\"");
	CHECK_STR("consecutive --not", fails("--not", "--not", "--ip", "1.1.1.1", NULL), "consecutive --not statements");
	CHECK_STR("trailing --not", fails("--ip", "1.1.1.1", "--not", NULL), "trailing --not found in the arguments");
	CHECK_STR("missing value", fails("--ip", NULL), "flag needs an argument: --ip");
	CHECK_STR("value on a boolean flag", fails("--ipv4=v4", NULL), "flag --ipv4 takes no value");
	CHECK_STR("bad IP", fails("--ip", "10.0.0.300", NULL), "invalid --ip value \"10.0.0.300\": invalid IP address");
	CHECK_STR("bad prefix length", fails("--to-ip", "10.0.0.0/33", NULL),
	          "invalid --to-ip value \"10.0.0.0/33\": invalid IP prefix");
	CHECK_STR("bad v6 prefix", fails("--ip", "2001:db8::/129", NULL),
	          "invalid --ip value \"2001:db8::/129\": invalid IP prefix");
	CHECK_STR("bad port", fails("--port", "70000", NULL),
	          "invalid --port value \"70000\": expected a port number 0-65535");
	CHECK_STR("port not a number", fails("--from-port", "http", NULL),
	          "invalid --from-port value \"http\": expected a port number 0-65535");
	CHECK_STR("bad protocol", fails("--protocol", "quic", NULL),
	          "invalid --protocol value \"quic\": unknown protocol (one of tcp, udp, sctp, icmp, icmpv4, "
	          "icmpv6, vrrp, igmp, dns, http, kafka)");
	CHECK_STR("bad verdict", fails("--verdict", "ALLOWED", NULL),
	          "invalid --verdict value: ALLOWED (one of FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, "
	          "TRACED, TRANSLATED)");
	CHECK_STR("bad http status", fails("--http-status", "600", NULL),
	          "invalid --http-status value \"600\": expected a status code (404) or a prefix (5+, 40+)");
	CHECK_STR("bad http status prefix", fails("--http-status", "5xx", NULL),
	          "invalid --http-status value \"5xx\": expected a status code (404) or a prefix (5+, 40+)");
	CHECK("bad regex", strstr(fails("--http-path", "(unclosed", NULL),
	                          "invalid --http-path value \"(unclosed\": invalid regular expression") != NULL);
	CHECK_STR("unsupported regex group", fails("--http-url", "a(?=b)", NULL),
	          "invalid --http-url value \"a(?=b)\": unsupported group syntax \"(?\"");
	/* found by fuzz_filter_json: glibc's regcomp exhausts memory on these */
	CHECK_STR("stacked repetition rejected as in RE2", fails("--http-url", "a++++++++", NULL),
	          "invalid --http-url value \"a++++++++\": bad repetition operator");
	CHECK_STR("repetition count limited as in RE2", fails("--http-path", "(a{100}){100}", NULL),
	          "invalid --http-path value \"(a{100}){100}\": repetition count above 1000");
	CHECK_STR("lazy quantifier accepted", fails("--http-path", "a+?b{2,3}?", NULL), "(no error)");
	CHECK_STR("a literal brace is not a repetition", fails("--http-path", "^/{id}$", NULL), "(no error)");
	CHECK_STR("bad fqdn rune", fails("--fqdn", "a/b", NULL),
	          "invalid --fqdn value \"a/b\": '/': invalid rune in pattern");
	CHECK_STR("empty fqdn", fails("--to-fqdn", " ", NULL), "invalid --to-fqdn value \" \": empty pattern");
	CHECK_STR("fqdn trailing dots", fails("--fqdn", "a..", NULL),
	          "invalid --fqdn value \"a..\": multiple trailing dots in pattern");
	CHECK_STR("bad label selector", fails("--label", "app in (a", NULL),
	          "invalid --label value \"app in (a\": expected ',' or ')' in value list");
	CHECK_STR("bad label value", fails("--from-label", "app=a b", NULL),
	          "invalid --from-label value \"app=a b\": expected ',' between requirements, got \"b\"");
	/* found by fuzz_filter_json: the error path used freed memory */
	CHECK_STR("label selector '<' needs an integer", fails("--from-label", "k8s:app < n", NULL),
	          "invalid --from-label value \"k8s:app < n\": expected an integer after '<'");
	CHECK_STR("bad type", fails("-t", "flow", NULL),
	          "invalid --type value \"flow\": unknown type (one of capture, drop, l7, policy-verdict, trace, "
	          "trace-sock, debug, agent, or a number)");
	CHECK_STR("bad trace subtype", fails("--type", "trace:to-moon", NULL),
	          "invalid --type value \"trace:to-moon\": unknown sub-type (trace: from-endpoint, to-network, ...; "
	          "or a number)");
	CHECK_STR("bad tcp flag", fails("--tcp-flags", "syn,bogus", NULL), "unknown tcp flag: bogus");
	CHECK_STR("bad direction", fails("--traffic-direction", "up", NULL),
	          "up: invalid traffic direction, expected ingress or egress");
	CHECK_STR("bad identity", fails("--identity", "mars", NULL),
	          "invalid --identity value \"mars\": expected a number or one of host, world, unmanaged, health, "
	          "init, remote-node, kube-apiserver, ingress, world-ipv4, world-ipv6");
	CHECK_STR("ip trace id 0", fails("--ip-trace-id", "0", NULL),
	          "invalid --ip-trace-id value; must be greater than 0");
	CHECK_STR("http header without colon", fails("--http-header", "X-Id", NULL),
	          "invalid http-header value \"X-Id\", expected name:value");
	CHECK_STR("drop reason", fails("--drop-reason-desc", "policy_denied", NULL),
	          "invalid --drop-reason-desc value: policy_denied");
	CHECK_STR("ip version", fails("--ip-version", "v5", NULL),
	          "invalid --ip-version value \"v5\": expected none, v4 or v6");
	CHECK_STR("node name", fails("--node-name", "a/b/c", NULL),
	          "invalid --node-name value \"a/b/c\": too many slashes in pattern");
	CHECK_STR("cel", fails("--cel-expression", "true", NULL), "--cel-expression is not supported by flowd");
	CHECK_STR("http filter with a non-l7 type", fails("--type", "trace", "--http-status", "5+", NULL),
	          "invalid allowlist filter: filtering by http status code requires the event type filter to "
	          "only match 'l7' events");
	CHECK_STR("http filter with l7 type is fine", fails("--type", "l7", "--http-method", "get", NULL), "(no error)");
	CHECK_STR("raw filter: unknown field", fails("--allowlist", "{\"source_ipz\":[\"1.1.1.1\"]}", NULL),
	          "invalid --allowlist flag: unknown field \"source_ipz\"");
	CHECK_STR("raw filter: bad JSON", fails("--denylist", "{\"source_ip\":", NULL),
	          "invalid --denylist flag: invalid JSON at column 13: unexpected token near end of file");
	CHECK_STR("raw filter: bad IP found at compile time",
	          fails("--allowlist", "{\"source_ip\":[\"1.2.3\"]}", NULL),
	          "invalid allowlist filter: source_ip: invalid IP address 1.2.3 in filter");
	CHECK_STR("raw filter: bad enum", fails("--allowlist", "{\"verdict\":[\"dropped\"]}", NULL),
	          "invalid --allowlist flag: verdict: invalid value \"dropped\" for enum Verdict");
	CHECK_STR("raw filter: empty pod", fails("--allowlist", "{\"source_pod\":[\"\"]}", NULL),
	          "invalid allowlist filter: source_pod: invalid filter, name must not be empty");
}

static void test_parse_forms(void)
{
	struct fe_filters *f = fe_filters_new();
	char *argv[] = { "--ip=10.0.0.1", "-tdrop", "-t=l7", "-4", "file.pcap", "-o", "json", "-4x", NULL };
	int i = 0;
	CHECK("--ip=X consumed", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 1 && i == 1);
	CHECK("-tdrop consumed", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 1 && i == 2);
	CHECK("-t=l7 consumed", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 1 && i == 3);
	CHECK("-4 consumed", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 1 && i == 4);
	CHECK("positional argument left alone", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 0 && i == 4);
	i = 5;
	CHECK("-o left alone", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 0 && i == 5);
	i = 7;
	CHECK("-4x bundle left alone", fe_filters_parse_arg(f, 8, argv, &i, err, sizeof(err)) == 0 && i == 7);
	CHECK("finish", fe_filters_finish(f, err, sizeof(err)) == 0);
	CHECK_STR("forms give the same filters as long flags", yaml(f),
	          "allowlist:\n    - '{\"source_ip\":[\"10.0.0.1\"],\"event_type\":[{\"type\":1},{\"type\":129}],\"ip_version\":[\"IPv4\"]}'\n"
	          "    - '{\"destination_ip\":[\"10.0.0.1\"],\"event_type\":[{\"type\":1},{\"type\":129}],\"ip_version\":[\"IPv4\"]}'\n");
	CHECK("no flags after finish", fe_filters_set(f, "ip", "1.1.1.1", err, sizeof(err)) == -1);
	fe_filters_free(f);
}

static void test_match_l34(void)
{
	struct flow_event *client = flow("10.0.0.5", 51000, "10.0.0.9", 80, FE_L4_TCP);
	struct flow_event *reply = flow("10.0.0.9", 80, "10.0.0.5", 51000, FE_L4_TCP);
	struct flow_event *other = flow("10.0.0.7", 51000, "10.0.0.9", 443, FE_L4_TCP);
	struct flow_event *dns = flow("10.0.0.5", 40000, "10.0.0.53", 53, FE_L4_UDP);
	struct flow_event *icmp = flow("10.0.0.5", 0, "8.8.8.8", 0, FE_L4_ICMPV4);
	struct flow_event *v6 = flow("2001:db8::1", 443, "2001:db8:1::2", 51000, FE_L4_TCP);
	struct flow_event *arp = flow_event_new();
	arp->has_ethernet = true;
	arp->event_type = 4;
	struct fe_filters *f;

	f = mk("--ip", "10.0.0.5", NULL);
	CHECK("--ip matches as source", m(f, client));
	CHECK("--ip matches as destination", m(f, reply));
	CHECK("--ip no match", !m(f, other));
	fe_filters_free(f);

	f = mk("--ip", "10.0.0.5", "--port", "80", NULL);
	CHECK("--ip X --port Y: client request (X source, Y destination port) matches", m(f, client));
	CHECK("--ip X --port Y: the reply matches", m(f, reply));
	CHECK("--ip X --port Y: X's DNS query does not (no port 80)", !m(f, dns));
	CHECK("--ip X --port Y: another host on 443 does not", !m(f, other));
	fe_filters_free(f);
	/* Hubble's pairing, still available as raw filters, misses the request. */
	f = mk("--allowlist", "{\"source_ip\":[\"10.0.0.5\"],\"source_port\":[\"80\"]}",
	       "--allowlist", "{\"destination_ip\":[\"10.0.0.5\"],\"destination_port\":[\"80\"]}", NULL);
	CHECK("Hubble's paired filters miss the client request", !m(f, client));
	fe_filters_free(f);

	f = mk("--from-ip", "10.0.0.0/29", NULL);
	CHECK("CIDR /29 contains .5", m(f, client));
	CHECK("CIDR /29 contains .7", m(f, other));
	struct flow_event *in_dst = flow("10.0.0.9", 1, "10.0.0.1", 2, FE_L4_TCP);
	CHECK("--from-ip CIDR: source only, not the destination", !m(f, in_dst));
	flow_event_free(in_dst);
	fe_filters_free(f);
	f = mk("--to-ip", "10.0.0.8/29", NULL);
	CHECK("CIDR /29 .8-.15 contains .9 as destination", m(f, client));
	CHECK("CIDR destination: reply goes to .5", !m(f, reply));
	fe_filters_free(f);
	f = mk("--ip", "2001:DB8:0::1", NULL);
	CHECK("IPv6 compared as an address, not as text", m(f, v6));
	fe_filters_free(f);
	f = mk("--ip", "2001:db8:1::/48", NULL);
	CHECK("IPv6 CIDR on destination", m(f, v6));
	CHECK("IPv6 CIDR does not match IPv4", !m(f, client));
	fe_filters_free(f);
	f = mk("--ip", "10.0.0.5", "--ip", "10.0.0.7", NULL);
	CHECK("values of one flag are ORed (1)", m(f, client));
	CHECK("values of one flag are ORed (2)", m(f, other));
	fe_filters_free(f);

	f = mk("--port", "53", NULL);
	CHECK("--port on UDP", m(f, dns));
	CHECK("--port no match", !m(f, client));
	fe_filters_free(f);
	f = mk("--port", "0", NULL);
	CHECK("ICMP has no ports: --port 0 does not match it", !m(f, icmp));
	fe_filters_free(f);
	f = mk("--to-port", "80", "--from-port", "51000", NULL);
	CHECK("--from-port and --to-port ANDed", m(f, client) && !m(f, reply));
	fe_filters_free(f);

	f = mk("--protocol", "UDP", NULL);
	CHECK("--protocol case-insensitive", m(f, dns) && !m(f, client));
	fe_filters_free(f);
	f = mk("--protocol", "icmp", NULL);
	CHECK("--protocol icmp: v4", m(f, icmp));
	fe_filters_free(f);
	f = mk("--protocol", "icmpv6", NULL);
	CHECK("--protocol icmpv6 not v4", !m(f, icmp));
	fe_filters_free(f);
	f = mk("--protocol", "tcp", "--protocol", "udp", NULL);
	CHECK("--protocol tcp OR udp", m(f, client) && m(f, dns) && !m(f, icmp));
	fe_filters_free(f);

	f = mk("-4", NULL);
	CHECK("-4", m(f, client) && !m(f, v6));
	fe_filters_free(f);
	f = mk("-6", NULL);
	CHECK("-6", !m(f, client) && m(f, v6));
	fe_filters_free(f);
	f = mk("--ip-version", "none", NULL);
	CHECK("--ip-version none: non-IP flows", m(f, arp) && !m(f, client));
	fe_filters_free(f);

	/* Our L3/L4 events are trace events (type 4), sub-type the datapath
	 * observation point: from-network (10) / to-network (11). */
	f = mk("--type", "trace", NULL);
	CHECK("--type trace matches flowd's L3/L4 events", m(f, client));
	fe_filters_free(f);
	f = mk("--type", "trace:to-network", NULL);
	CHECK("--type trace:to-network", m(f, client));
	fe_filters_free(f);
	f = mk("--type", "trace:from-network", NULL);
	CHECK("--type trace:from-network does not match egress", !m(f, client));
	fe_filters_free(f);
	f = mk("--type", "4:11", NULL);
	CHECK("--type numeric with sub-type", m(f, client));
	fe_filters_free(f);
	f = mk("--type", "drop", NULL);
	CHECK("--type drop", !m(f, client));
	fe_filters_free(f);

	f = mk("--tcp-flags", "syn", NULL);
	client->tcp_flags = FLOW_TCP_SYN;
	reply->tcp_flags = FLOW_TCP_SYN | FLOW_TCP_ACK;
	other->tcp_flags = FLOW_TCP_ACK;
	CHECK("--tcp-flags syn: SYN", m(f, client));
	CHECK("--tcp-flags syn: SYN-ACK too", m(f, reply));
	CHECK("--tcp-flags syn: not ACK", !m(f, other));
	fe_filters_free(f);
	f = mk("--tcp-flags", "syn,ack", NULL);
	CHECK("--tcp-flags syn,ack: all must be set", !m(f, client) && m(f, reply));
	fe_filters_free(f);
	f = mk("--tcp-flags", "syn,ack", "--tcp-flags", "ack", NULL);
	CHECK("--tcp-flags repeated: OR", m(f, reply) && m(f, other) && !m(f, client));
	fe_filters_free(f);

	f = mk("--traffic-direction", "ingress", NULL);
	CHECK("--traffic-direction ingress", !m(f, client));
	fe_filters_free(f);
	f = mk("--verdict", "forwarded", NULL);
	CHECK("--verdict case-insensitive", m(f, client));
	fe_filters_free(f);

	/* --not and the denylist */
	f = mk("--not", "--protocol", "udp", NULL);
	CHECK("--not excludes", !m(f, dns) && m(f, client));
	fe_filters_free(f);
	f = mk("--protocol", "tcp", "--not", "--ip", "10.0.0.7", NULL);
	CHECK("allow tcp, deny one host (allowed)", m(f, client));
	CHECK("allow tcp, deny one host (denied)", !m(f, other));
	CHECK("allow tcp, deny one host (not tcp)", !m(f, dns));
	fe_filters_free(f);
	f = mk("--not", "--ip", "10.0.0.5", "--not", "--ip", "10.0.0.7", NULL);
	CHECK("two --not: excluded if either matches", !m(f, client) && !m(f, other) && m(f, v6));
	fe_filters_free(f);

	/* Lost events bypass everything. */
	f = mk("--ip", "192.0.2.1", NULL);
	struct fe_record lost = { .kind = FE_REC_LOST };
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = client };
	CHECK("lost events always pass", fe_filters_match(f, &lost));
	CHECK("flows are filtered", !fe_filters_match(f, &rec));
	fe_filters_free(f);

	f = mk("--interface", "eth0", NULL);
	client->ifname = "eth0";
	client->ifindex = 2;
	CHECK("--interface by name", m(f, client) && !m(f, reply));
	fe_filters_free(f);
	f = mk("--allowlist", "{\"interface\":[{\"index\":2}]}", NULL);
	CHECK("raw interface by index", m(f, client) && !m(f, reply));
	fe_filters_free(f);

	f = mk("--snat-ip", "192.0.2.0/24", NULL);
	strcpy(client->ip_src_xlated, "192.0.2.10");
	CHECK("--snat-ip on source_xlated", m(f, client) && !m(f, other));
	fe_filters_free(f);
	f = mk("--encrypted", NULL);
	client->encrypted = true;
	CHECK("--encrypted", m(f, client) && !m(f, other));
	fe_filters_free(f);

	f = mk("--node-name", "kind-worker", NULL);
	client->node_name = "default/kind-worker";
	other->node_name = "kind-worker";
	reply->node_name = "prod/kind-worker";
	/* A pattern without a cluster matches any cluster; an event name
	 * without one is "default/<name>". */
	CHECK("--node-name without cluster: any cluster", m(f, client) && m(f, other) && m(f, reply));
	fe_filters_free(f);
	f = mk("--node-name", "prod/kind-*", NULL);
	CHECK("--node-name cluster/glob", m(f, reply) && !m(f, client));
	fe_filters_free(f);
	f = mk("--node-name", "default/kind-worker", NULL);
	CHECK("--node-name default cluster: names without a cluster are in it", m(f, client) && m(f, other) && !m(f, reply));
	fe_filters_free(f);

	f = mk("--uuid", "abc", NULL);
	strcpy(client->uuid, "abc");
	CHECK("--uuid", m(f, client) && !m(f, other));
	fe_filters_free(f);

	flow_event_free(client);
	flow_event_free(reply);
	flow_event_free(other);
	flow_event_free(dns);
	flow_event_free(icmp);
	flow_event_free(v6);
	flow_event_free(arp);
}

static void test_match_l7_and_k8s(void)
{
	struct flow_event *syn = fx_tcp_syn_to_endpoint(), *req = fx_http_request(),
	                  *resp = fx_http_response(), *dns = fx_dns_response(),
	                  *kafka = fx_kafka_request(), *drop = fx_policy_drop();
	struct fe_filters *f;

	f = mk("--protocol", "http", NULL);
	CHECK("--protocol http: L7 HTTP only", m(f, req) && m(f, resp) && !m(f, syn) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--protocol", "tcp", NULL);
	CHECK("--protocol tcp also matches HTTP (l4 TCP)", m(f, req) && m(f, syn) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--protocol", "kafka", NULL);
	CHECK("--protocol kafka", m(f, kafka) && !m(f, req));
	fe_filters_free(f);
	f = mk("--protocol", "dns", NULL);
	CHECK("--protocol dns", m(f, dns) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--type", "l7", NULL);
	CHECK("--type l7", m(f, req) && m(f, dns) && !m(f, syn));
	fe_filters_free(f);

	f = mk("--http-status", "2+", NULL);
	CHECK("--http-status 2+: 201", m(f, resp));
	CHECK("--http-status: requests have no code", !m(f, req));
	fe_filters_free(f);
	f = mk("--http-status", "5+", NULL);
	CHECK("--http-status 5+: not 201", !m(f, resp));
	resp->l7.http.code = 503;
	CHECK("--http-status 5+: 503", m(f, resp));
	fe_filters_free(f);
	f = mk("--http-status", "50+", "--http-status", "404", NULL);
	resp->l7.http.code = 404;
	CHECK("--http-status exact 404", m(f, resp));
	resp->l7.http.code = 400;
	CHECK("--http-status 400 not in 404/50+", !m(f, resp));
	resp->l7.http.code = 502;
	CHECK("--http-status 50+: 502", m(f, resp));
	fe_filters_free(f);

	f = mk("--http-method", "post", NULL);
	CHECK("--http-method case-insensitive", m(f, req) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--http-path", "^/api/v\\d+/orders$", NULL);
	CHECK("--http-path regex with \\d on the path", m(f, req));
	fe_filters_free(f);
	f = mk("--http-path", "^/api$", NULL);
	CHECK("--http-path anchored: no match", !m(f, req));
	fe_filters_free(f);
	f = mk("--http-path", "(?i)/API/(?:v1|v2)/", NULL);
	CHECK("--http-path (?i) and (?:)", m(f, req));
	fe_filters_free(f);
	f = mk("--http-path", "^/a b$", NULL);
	req->l7.http.url = "http://web/a%20b?x=1";
	CHECK("--http-path sees the decoded path, without the query", m(f, req));
	fe_filters_free(f);
	f = mk("--http-url", "^http://web/.*x=[[:digit:]]", NULL);
	CHECK("--http-url on the full URL", m(f, req));
	fe_filters_free(f);
	f = mk("--http-path", "^/\\{x\\}|^/a b$", NULL);
	CHECK("--http-path alternation with escaped braces", m(f, req));
	fe_filters_free(f);
	f = mk("--http-url", "[\\d.]+:80", NULL);
	req->l7.http.url = "http://10.0.0.1:8080/";
	CHECK("--http-url bracket with \\d", m(f, req));
	fe_filters_free(f);
	f = mk("--http-header", "User-Agent:curl/8.5.0", NULL);
	req->l7.http.url = "http://web/";
	CHECK("--http-header exact", m(f, req) && !m(f, resp));
	fe_filters_free(f);

	f = mk("--dns-query", "*.github.com", NULL);
	CHECK("--dns-query glob", m(f, dns) && !m(f, req));
	dns->l7.dns.query = "API.GitHub.COM.";
	CHECK("--dns-query case-insensitive", m(f, dns));
	dns->l7.dns.query = "_ldap._tcp.github.com.";
	CHECK("--dns-query '*' crosses '_' in DNS names", m(f, dns));
	dns->l7.dns.query = "github.com.evil.";
	CHECK("--dns-query anchored", !m(f, dns));
	fe_filters_free(f);
	f = mk("--allowlist", "{\"dns_query\":[\"git\"]}", NULL);
	dns->l7.dns.query = "api.github.com.";
	CHECK("raw dns_query: unanchored regex (Hubble)", m(f, dns));
	fe_filters_free(f);

	f = mk("--fqdn", "*.cilium.io", NULL);
	CHECK("--fqdn: cilium.io is not *.cilium.io", !m(f, drop));
	fe_filters_free(f);
	f = mk("--to-fqdn", "CILIUM.IO.", NULL);
	CHECK("--to-fqdn canonicalised (case, trailing dot)", m(f, drop));
	fe_filters_free(f);
	f = mk("--fqdn", "*ilium.io", NULL);
	CHECK("--fqdn glob", m(f, drop));
	drop->destination_names = fx_strv(drop, 1, "a_b.cilium.io");
	CHECK("--fqdn '*' does not cross '_' (Hubble)", !m(f, drop));
	fe_filters_free(f);

	f = mk("--label", "k8s:app=frontend", NULL);
	CHECK("--label k8s:app=frontend", m(f, syn) && m(f, req) && m(f, resp) && !m(f, kafka));
	fe_filters_free(f);
	f = mk("--from-label", "app=checkout", NULL);
	CHECK("--from-label without source: any source", m(f, resp) && !m(f, req));
	fe_filters_free(f);
	f = mk("--to-label", "reserved:world", NULL);
	CHECK("--to-label reserved:world", m(f, drop) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--label", "k8s:app in (checkout, kafka)", NULL);
	CHECK("--label in (...)", m(f, syn) && m(f, kafka) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--from-label", "!k8s:app", NULL);
	CHECK("--from-label !key", m(f, dns) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--from-label", "k8s:app!=frontend", NULL);
	CHECK("--from-label key!=value (absent counts)", m(f, dns) && m(f, kafka) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--from-label", "k8s:app=frontend,k8s:io.kubernetes.pod.namespace=shop", NULL);
	CHECK("--from-label two requirements ANDed", m(f, syn) && !m(f, req));
	fe_filters_free(f);
	f = mk("--from-label", "cidr:app=frontend", NULL);
	CHECK("--from-label wrong source", !m(f, syn));
	fe_filters_free(f);

	f = mk("-n", "kube-system", NULL);
	CHECK("-n: either side", m(f, dns) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--from-namespace", "shop", NULL);
	CHECK("--from-namespace", m(f, syn) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--pod", "shop/checkout-", NULL);
	CHECK("--pod ns/prefix either side", m(f, syn) && m(f, resp) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--pod", "checkout-", NULL);
	CHECK("--pod without namespace means default/", !m(f, syn));
	fe_filters_free(f);
	f = mk("--to-pod", "/checkout-", NULL);
	CHECK("--to-pod /prefix: any namespace", m(f, syn) && !m(f, resp));
	fe_filters_free(f);
	f = mk("-n", "kube-system", "--pod", "coredns", NULL);
	CHECK("-n with --pod", m(f, dns) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--from-identity", "32753", NULL);
	CHECK("--from-identity", m(f, syn) && !m(f, dns));
	fe_filters_free(f);
	f = mk("--identity", "16777219", NULL);
	CHECK("--identity either side", m(f, drop) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--workload", "frontend", NULL);
	CHECK("--workload name", m(f, syn) && !m(f, req));
	fe_filters_free(f);
	f = mk("--to-workload", "Deployment/", NULL);
	CHECK("--to-workload kind only", m(f, syn));
	fe_filters_free(f);
	f = mk("--cluster", "default", NULL);
	CHECK("--cluster", m(f, syn) && !m(f, req));
	fe_filters_free(f);

	f = mk("--drop-reason-desc", "POLICY_DENIED", NULL);
	CHECK("--drop-reason-desc", m(f, drop) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--verdict", "DROPPED", "--traffic-direction", "egress", NULL);
	CHECK("--verdict AND --traffic-direction", m(f, drop) && !m(f, syn));
	fe_filters_free(f);
	f = mk("--allowlist", "{\"reply\":[true]}", NULL);
	CHECK("raw reply: true", m(f, resp) && !m(f, req));
	CHECK("raw reply: unknown on a drop counts as false", !m(f, drop));
	fe_filters_free(f);
	f = mk("--allowlist", "{\"reply\":[false]}", NULL);
	CHECK("raw reply: false", m(f, req) && m(f, drop) && !m(f, resp));
	fe_filters_free(f);
	f = mk("--node-name", "default/kind-worker2", NULL);
	CHECK("--node-name exact", m(f, kafka) && !m(f, syn));
	fe_filters_free(f);

	flow_event_free(syn);
	flow_event_free(req);
	flow_event_free(resp);
	flow_event_free(dns);
	flow_event_free(kafka);
	flow_event_free(drop);
}

static void test_json_forms(void)
{
	struct fe_filters *f, *g;
	struct fe_buf b = { 0 }, y1 = { 0 }, y2 = { 0 };

	f = mk("--ip", "10.0.0.5", "--protocol", "tcp", "--not", "--port", "22",
	       "--allowlist", "{\"sourceIp\":[\"1.1.1.1\"]} {\"destinationPort\":[\"53\"],\"verdict\":[2]}", NULL);
	CHECK("mixed flags and raw filters", f != NULL);
	CHECK_U64("2 flag filters + 2 raw ones", fe_filters_count(f, false), 4);
	CHECK_STR("raw filters after flag filters, camelCase accepted, enums by number", yaml(f),
	          "allowlist:\n"
	          "    - '{\"source_ip\":[\"10.0.0.5\"],\"protocol\":[\"tcp\"]}'\n"
	          "    - '{\"destination_ip\":[\"10.0.0.5\"],\"protocol\":[\"tcp\"]}'\n"
	          "    - '{\"source_ip\":[\"1.1.1.1\"]}'\n"
	          "    - '{\"verdict\":[\"DROPPED\"],\"destination_port\":[\"53\"]}'\n"
	          "denylist:\n"
	          "    - '{\"source_port\":[\"22\"]}'\n"
	          "    - '{\"destination_port\":[\"22\"]}'\n");
	CHECK("to json", fe_filters_to_json(f, &b) == 0);
	CHECK_STR("the socket API form", b.data,
	          "{\"allowlist\":[{\"source_ip\":[\"10.0.0.5\"],\"protocol\":[\"tcp\"]},"
	          "{\"destination_ip\":[\"10.0.0.5\"],\"protocol\":[\"tcp\"]},{\"source_ip\":[\"1.1.1.1\"]},"
	          "{\"verdict\":[\"DROPPED\"],\"destination_port\":[\"53\"]}],"
	          "\"denylist\":[{\"source_port\":[\"22\"]},{\"destination_port\":[\"22\"]}]}");
	g = fe_filters_new();
	CHECK("from json", fe_filters_from_json(g, b.data, b.len, err, sizeof(err)) == 0 &&
	                   fe_filters_finish(g, err, sizeof(err)) == 0);
	fe_filters_to_yaml(f, &y1);
	fe_filters_to_yaml(g, &y2);
	CHECK_STR("json round trip keeps every filter", y2.data, y1.data);
	fe_filters_free(g);

	/* Exporter-style lists of JSON strings. */
	g = fe_filters_new();
	const char *exp = "{\"allowlist\":[\"{\\\"source_pod\\\":[\\\"kube-system/\\\"]}\"],"
	                  "\"denylist\":[\"{\\\"protocol\\\":[\\\"udp\\\"]}\"]}";
	CHECK("from json with string elements", fe_filters_from_json(g, exp, strlen(exp), err, sizeof(err)) == 0 &&
	                                        fe_filters_finish(g, err, sizeof(err)) == 0);
	CHECK_U64("string elements: 1 allow", fe_filters_count(g, false), 1);
	CHECK_U64("string elements: 1 deny", fe_filters_count(g, true), 1);
	fe_filters_free(g);
	g = fe_filters_new();
	CHECK("from json: unknown key rejected", fe_filters_from_json(g, "{\"allow\":[]}", 12, err, sizeof(err)) == -1);
	CHECK_STR("from json: error text", err, "filters: unknown field \"allow\"");
	fe_filters_free(g);

	struct fe_filters *none = mk(NULL);
	b.len = 0;
	fe_filters_to_json(none, &b);
	CHECK_STR("no filters as json", b.data, "{}");
	fe_filters_free(none);

	/* Every raw field type parses and re-serialises identically. */
	const char *all =
		"{\"uuid\":[\"u\"],\"source_ip\":[\"1.1.1.1\"],\"source_ip_xlated\":[\"2.2.2.2\"],\"source_pod\":[\"a/b\"],"
		"\"source_fqdn\":[\"x.io\"],\"source_label\":[\"k8s:a=b\"],\"source_service\":[\"s\"],"
		"\"source_workload\":[{\"name\":\"w\",\"kind\":\"k\"}],\"source_cluster_name\":[\"c\"],"
		"\"destination_ip\":[\"3.3.3.3\"],\"destination_pod\":[\"p\"],\"destination_fqdn\":[\"y.io\"],"
		"\"destination_label\":[\"a\"],\"destination_service\":[\"ns/s\"],\"destination_workload\":[{\"kind\":\"k\"}],"
		"\"destination_cluster_name\":[\"d\"],\"traffic_direction\":[\"INGRESS\"],\"verdict\":[\"AUDIT\"],"
		"\"drop_reason_desc\":[\"POLICY_DENY\"],\"interface\":[{\"index\":3,\"name\":\"eth0\"}],"
		"\"event_type\":[{\"type\":129,\"match_sub_type\":true,\"sub_type\":3}],\"http_status_code\":[\"5+\"],"
		"\"protocol\":[\"http\"],\"source_port\":[\"1\"],\"destination_port\":[\"2\"],\"reply\":[true],"
		"\"dns_query\":[\"q\"],\"source_identity\":[1],\"destination_identity\":[2],\"http_method\":[\"GET\"],"
		"\"http_path\":[\"/\"],\"http_url\":[\"u\"],\"http_header\":[{\"key\":\"k\",\"value\":\"v\"}],"
		"\"tcp_flags\":[{\"FIN\":true,\"NS\":true}],\"node_name\":[\"n\"],\"node_labels\":[\"l\"],"
		"\"ip_version\":[\"IPv4\"],\"trace_id\":[\"t\"],\"ip_trace_id\":[\"9\"],\"encrypted\":[true]}";
	g = fe_filters_new();
	CHECK("every raw field parses", fe_filters_add_json(g, false, all, err, sizeof(err)) == 0);
	CHECK("every raw field compiles", fe_filters_finish(g, err, sizeof(err)) == 0);
	b.len = 0;
	fe_filters_to_json(g, &b);
	char want[4096];
	snprintf(want, sizeof(want), "{\"allowlist\":[%s]}", all);
	CHECK_STR("every raw field re-serialises identically", b.data, want);
	fe_filters_free(g);

	fe_buf_free(&b);
	fe_buf_free(&y1);
	fe_buf_free(&y2);
	fe_filters_free(f);
}

int main(void)
{
	test_raw_output();
	test_errors();
	test_parse_forms();
	test_match_l34();
	test_match_l7_and_k8s();
	test_json_forms();
	return CHECK_DONE();
}
