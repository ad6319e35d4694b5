/* Unit tests of lib/policy.c: the policy file, L3/L4 and L7 evaluation,
 * labelling events, validation errors with positions, reloads. */
#include "check.h"
#include "flow_l34.h"
#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"
#include "printer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

/* The README's example (keep them the same). */
static const char example[] =
	"mode: enforce            # enforce: drop what is denied at L3/L4; audit: report only\n"
	"defaultAction: deny      # when no rule matches\n"
	"rules:\n"
	"  - name: web-from-frontend\n"
	"    direction: ingress\n"
	"    action: allow\n"
	"    endpointSelector:\n"
	"      matchLabels: {app: web}\n"
	"    fromEndpoints:\n"
	"      - matchLabels: {app: frontend}\n"
	"    toPorts:\n"
	"      - ports: [{port: \"80\", protocol: TCP}]\n"
	"        rules:\n"
	"          http:\n"
	"            - method: GET\n"
	"              path: \"/api/v\\\\d+/.*\"\n"   /* RE2's \\d, as Cilium reads it */
	"            - method: POST\n"
	"              path: /api/v1/orders\n"
	"              headers: [\"Content-Type: application/json\"]\n"
	"  - name: web-from-office\n"
	"    direction: ingress\n"
	"    action: allow\n"
	"    endpointSelector: {matchLabels: {app: web}}\n"
	"    fromCIDRSet:\n"
	"      - cidr: 198.18.0.0/16\n"
	"        except: [198.18.99.0/24]\n"
	"    toPorts:\n"
	"      - ports: [{port: \"80\", protocol: TCP}, {port: \"8000\", endPort: 8100, protocol: TCP}]\n"
	"  - name: no-telnet\n"
	"    direction: egress\n"
	"    action: deny\n"
	"    endpointSelector: {}\n"
	"    toPorts: [{ports: [{port: \"23\"}]}]\n"
	"  - name: dns\n"
	"    direction: egress\n"
	"    action: allow\n"
	"    toEntities: [world, host]\n"
	"    toPorts:\n"
	"      - ports: [{port: \"53\", protocol: UDP}, {port: \"53\", protocol: TCP}]\n"
	"        rules:\n"
	"          dns: [{matchPattern: \"*.example.com\"}, {matchName: example.org}]\n"
	"  - name: api-egress\n"
	"    direction: egress\n"
	"    action: allow\n"
	"    endpointSelector: {matchLabels: {app: web}}\n"
	"    toFQDNs: [{matchName: api.example.com}, {matchPattern: \"*.cdn.example.net\"}]\n"
	"    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"
	"  - name: kafka-producer\n"
	"    direction: egress\n"
	"    action: allow\n"
	"    endpointSelector: {matchLabels: {app: web}}\n"
	"    toEndpoints: [{matchLabels: {app: kafka}}]\n"
	"    toPorts:\n"
	"      - ports: [{port: \"9092\", protocol: TCP}]\n"
	"        rules:\n"
	"          kafka:\n"
	"            - {role: produce, topic: orders}\n"
	"            - {apiKey: fetch, topic: orders, clientID: web}\n"
	"  - name: ping-from-host\n"
	"    direction: ingress\n"
	"    action: allow\n"
	"    fromEntities: [host]\n";

static const char *L_WEB[] = { "k8s:app=web", "k8s:io.kubernetes.pod.namespace=shop" };
static const char *L_FRONT[] = { "k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop" };
static const char *L_KAFKA[] = { "k8s:app=kafka", "k8s:io.kubernetes.pod.namespace=shop" };
static const char *L_HOST[] = { "reserved:host" };
static const char *L_WORLD[] = { "reserved:world" };
static const char *L_CIDR[] = { "cidr:203.0.113.0/24", "reserved:world" };
#define LBL(a) (a), (sizeof(a) / sizeof((a)[0]))

static struct policy_l34_query q4(const char *s, uint16_t sp, const char *d, uint16_t dp, uint8_t proto,
                                  const char **sl, size_t nsl, const char **dl, size_t ndl)
{
	struct policy_l34_query q;
	memset(&q, 0, sizeof(q));
	q.family = 4;
	inet_pton(AF_INET, s, q.saddr);
	inet_pton(AF_INET, d, q.daddr);
	q.sport = sp;
	q.dport = dp;
	q.proto = proto;
	q.src_labels = sl;
	q.n_src_labels = nsl;
	q.dst_labels = dl;
	q.n_dst_labels = ndl;
	return q;
}

/* "allow:RULE:MATCH:DROP" / "deny:RULE:MATCH:DROP", RULE "-" for none. */
static const char *fmt_verdict(const struct policy *p, const struct policy_verdict *v, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%s:%u:%u%s%s", v->action == POLICY_ALLOW ? "allow" : "deny",
	         v->rule >= 0 ? policy_rule_name(p, (uint32_t)v->rule) : "-", v->match_type,
	         v->drop_reason, v->direction == POLICY_EGRESS ? ":egress" :
	         v->direction == POLICY_INGRESS ? ":ingress" : "", v->l7_unmatched ? ":l7-unmatched" : "");
	return buf;
}

static void expect34(const char *name, const struct policy *p, struct policy_l34_query q, const char *want)
{
	struct policy_verdict v;
	char buf[200];
	policy_eval_l34(p, &q, &v);
	CHECK_STR(name, fmt_verdict(p, &v, buf, sizeof(buf)), want);
}

static struct policy *load(const char *text)
{
	char err[4096];
	struct policy *p = policy_load_string(text, strlen(text), "policy.yaml", err, sizeof(err));
	if (!p)
		printf("  load error: %s\n", err);
	return p;
}

static void test_example_l34(void)
{
	struct policy *p = load(example);
	CHECK("example loads", p != NULL);
	if (!p)
		return;
	CHECK_U64("rules", policy_rule_count(p), 7);
	CHECK("mode enforce", policy_mode(p) == POLICY_ENFORCE);
	CHECK("default deny", policy_default_action(p) == POLICY_DENY);
	CHECK_STR("rule 4 name", policy_rule_name(p, 4), "api-egress");
	CHECK("rule 2 is an egress deny", policy_rule_dir(p, 2) == POLICY_EGRESS &&
	      policy_rule_action(p, 2) == POLICY_DENY);

	expect34("frontend -> web:80 (first matching allow decides)", p,
	         q4("198.18.0.5", 40000, "198.18.1.10", 80, 6, LBL(L_FRONT), LBL(L_WEB)),
	         "allow:web-from-frontend:2:0:ingress");
	expect34("excepted office address -> web:80", p,
	         q4("198.18.99.7", 40000, "198.18.1.10", 80, 6, LBL(L_WORLD), LBL(L_WEB)),
	         "deny:-:0:133");
	expect34("office -> web:8050 (port range)", p,
	         q4("198.18.5.5", 40000, "198.18.1.10", 8050, 6, LBL(L_WORLD), LBL(L_WEB)),
	         "allow:web-from-office:2:0:ingress");
	expect34("office -> web:8101 (past endPort)", p,
	         q4("198.18.5.5", 40000, "198.18.1.10", 8101, 6, LBL(L_WORLD), LBL(L_WEB)),
	         "deny:-:0:133");
	expect34("office -> web:8050 over UDP", p,
	         q4("198.18.5.5", 40000, "198.18.1.10", 8050, 17, LBL(L_WORLD), LBL(L_WEB)),
	         "deny:-:0:133");
	expect34("office -> frontend:80 (subject does not match)", p,
	         q4("198.18.5.5", 40000, "198.18.1.11", 80, 6, LBL(L_WORLD), LBL(L_FRONT)),
	         "deny:-:0:133");
	expect34("web -> telnet: deny rule (ANY protocol)", p,
	         q4("198.18.1.10", 40000, "192.0.2.1", 23, 6, LBL(L_WEB), LBL(L_WORLD)),
	         "deny:no-telnet:3:181:egress");
	expect34("web -> telnet over UDP", p,
	         q4("198.18.1.10", 40000, "192.0.2.1", 23, 17, LBL(L_WEB), LBL(L_WORLD)),
	         "deny:no-telnet:3:181:egress");
	expect34("world -> world telnet: {} does not select world", p,
	         q4("203.0.113.1", 40000, "203.0.113.2", 23, 6, LBL(L_CIDR), LBL(L_WORLD)),
	         "deny:-:0:133");
	expect34("unlabelled source counts as world", p,
	         q4("203.0.113.1", 40000, "203.0.113.2", 23, 6, NULL, 0, LBL(L_WORLD)),
	         "deny:-:0:133");
	expect34("web -> DNS (allow rule with L7 rules allows at L3/L4)", p,
	         q4("198.18.1.10", 40000, "192.0.2.53", 53, 17, LBL(L_WEB), LBL(L_WORLD)),
	         "allow:dns:2:0:egress");
	expect34("web -> host DNS over TCP", p,
	         q4("198.18.1.10", 40000, "198.19.0.1", 53, 6, LBL(L_WEB), LBL(L_HOST)),
	         "allow:dns:2:0:egress");
	expect34("web -> kafka endpoint DNS (not an entity of the rule)", p,
	         q4("198.18.1.10", 40000, "198.18.2.2", 53, 17, LBL(L_WEB), LBL(L_KAFKA)),
	         "deny:-:0:133");

	struct policy_l34_query q = q4("198.18.1.10", 40000, "192.0.2.10", 443, 6, LBL(L_WEB), LBL(L_WORLD));
	expect34("FQDN peer without a known name", p, q, "deny:-:0:133");
	const char *names1[] = { "api.example.com" };
	q.dst_names = names1;
	q.n_dst_names = 1;
	expect34("FQDN matchName", p, q, "allow:api-egress:2:0:egress");
	const char *names2[] = { "other.org", "img.cdn.example.net" };
	q.dst_names = names2;
	q.n_dst_names = 2;
	expect34("FQDN matchPattern, second name", p, q, "allow:api-egress:2:0:egress");
	const char *names3[] = { "a.img.cdn.example.net" };
	q.dst_names = names3;
	q.n_dst_names = 1;
	expect34("FQDN pattern '*' does not cross dots", p, q, "deny:-:0:133");

	expect34("web -> kafka:9092", p,
	         q4("198.18.1.10", 40000, "198.18.2.2", 9092, 6, LBL(L_WEB), LBL(L_KAFKA)),
	         "allow:kafka-producer:2:0:egress");
	expect34("host -> web ICMP (L3-only rule)", p,
	         q4("198.19.0.1", 0, "198.18.1.10", 0x0800, 1, LBL(L_HOST), LBL(L_WEB)),
	         "allow:ping-from-host:1:0:ingress");
	expect34("world -> web ICMP", p,
	         q4("192.0.2.1", 0, "198.18.1.10", 0x0800, 1, LBL(L_WORLD), LBL(L_WEB)),
	         "deny:-:0:133");
	expect34("host -> world (ping-from-host does not select world)", p,
	         q4("198.19.0.1", 0, "192.0.2.1", 0x0800, 1, LBL(L_HOST), LBL(L_WORLD)),
	         "deny:-:0:133");
	policy_unref(p);
}

static void test_precedence_and_selectors(void)
{
	static const char text[] =
		"mode: audit\n"
		"defaultAction: allow\n"
		"rules:\n"
		"  - {name: allow-all-web, direction: egress, action: allow,\n"
		"     endpointSelector: {matchLabels: {app: web}}}\n"
		"  - {name: deny-kafka-in, direction: ingress, action: deny,\n"
		"     endpointSelector: {matchLabels: {\"k8s:app\": kafka}}, fromEndpoints: [{}]}\n"
		"  - name: expr\n"
		"    direction: ingress\n"
		"    action: deny\n"
		"    endpointSelector:\n"
		"      matchExpressions:\n"
		"        - {key: app, operator: In, values: [db, cache]}\n"
		"        - {key: tier, operator: NotIn, values: [test]}\n"
		"        - {key: io.kubernetes.pod.namespace, operator: Exists}\n"
		"        - {key: legacy, operator: DoesNotExist}\n"
		"    toPorts: [{ports: [{protocol: TCP}]}]\n"
		"  - {name: world-routed, direction: egress, action: deny,\n"
		"     endpointSelector: {matchLabels: {\"reserved:world\": \"\"}},\n"
		"     toCIDR: [\"2001:db8:1::/48\"], toPorts: [{ports: [{protocol: UDP}]}]}\n";
	struct policy *p = load(text);
	CHECK("precedence policy loads", p != NULL);
	if (!p)
		return;
	CHECK("mode audit", policy_mode(p) == POLICY_AUDIT);
	expect34("egress allow vs ingress deny: deny wins", p,
	         q4("198.18.1.10", 40000, "198.18.2.2", 9092, 6, LBL(L_WEB), LBL(L_KAFKA)),
	         "deny:deny-kafka-in:1:181:ingress");
	expect34("web egress elsewhere", p,
	         q4("198.18.1.10", 40000, "192.0.2.1", 443, 6, LBL(L_WEB), LBL(L_WORLD)),
	         "allow:allow-all-web:4:0:egress");
	expect34("world -> kafka: fromEndpoints {} excludes world", p,
	         q4("192.0.2.1", 40000, "198.18.2.2", 9092, 6, LBL(L_WORLD), LBL(L_KAFKA)),
	         "allow:-:0:0");
	const char *db[] = { "k8s:app=db", "k8s:io.kubernetes.pod.namespace=x" };
	const char *db_test[] = { "k8s:app=db", "k8s:io.kubernetes.pod.namespace=x", "k8s:tier=test" };
	const char *db_legacy[] = { "k8s:app=db", "k8s:io.kubernetes.pod.namespace=x", "k8s:legacy" };
	const char *cache_nons[] = { "k8s:app=cache" };
	expect34("matchExpressions all hold", p,
	         q4("192.0.2.1", 1, "198.18.3.3", 5432, 6, LBL(L_WORLD), LBL(db)),
	         "deny:expr:6:181:ingress");
	expect34("matchExpressions: proto-only rule does not match UDP", p,
	         q4("192.0.2.1", 1, "198.18.3.3", 5432, 17, LBL(L_WORLD), LBL(db)), "allow:-:0:0");
	expect34("NotIn excludes", p, q4("192.0.2.1", 1, "198.18.3.3", 5432, 6, LBL(L_WORLD), LBL(db_test)),
	         "allow:-:0:0");
	expect34("DoesNotExist excludes", p,
	         q4("192.0.2.1", 1, "198.18.3.3", 5432, 6, LBL(L_WORLD), LBL(db_legacy)), "allow:-:0:0");
	expect34("Exists needs the label", p,
	         q4("192.0.2.1", 1, "198.18.3.3", 5432, 6, LBL(L_WORLD), LBL(cache_nons)), "allow:-:0:0");

	struct policy_l34_query q;
	memset(&q, 0, sizeof(q));
	q.family = 6;
	inet_pton(AF_INET6, "2001:db8:9::1", q.saddr);
	inet_pton(AF_INET6, "2001:db8:1:5::7", q.daddr);
	q.proto = 17;
	q.dport = 5000;
	q.src_labels = L_WORLD;
	q.n_src_labels = 1;
	q.dst_labels = L_WORLD;
	q.n_dst_labels = 1;
	expect34("IPv6 world subject selected by reserved:world", p, q, "deny:world-routed:5:181:egress");
	inet_pton(AF_INET6, "2001:db8:2::7", q.daddr);
	expect34("IPv6 outside the CIDR", p, q, "allow:-:0:0");
	policy_unref(p);
}

/* --- L7 --------------------------------------------------------------------- */

static void json_of(struct flow_event *ev, char *out, size_t n);

static struct flow_event *l7ev(enum fe_l7_type t, const char *cip, uint16_t cport, const char *sip,
                               uint16_t sport, const char **cl, size_t ncl, const char **sl, size_t nsl,
                               enum fe_l4_kind l4)
{
	struct flow_event *ev = flow_event_new();
	ev->type = FE_TYPE_L7;
	ev->has_ip = true;
	ev->ip_version = FE_IPV4;
	ev->l4 = l4;
	ev->l7.type = t;
	bool req = t == FE_L7_REQUEST;
	strcpy(ev->ip_src, req ? cip : sip);
	strcpy(ev->ip_dst, req ? sip : cip);
	ev->sport = req ? cport : sport;
	ev->dport = req ? sport : cport;
	struct fe_endpoint *ce = req ? &ev->source : &ev->destination, *se = req ? &ev->destination : &ev->source;
	ce->labels = cl;
	ce->n_labels = ncl;
	se->labels = sl;
	se->n_labels = nsl;
	return ev;
}

static struct flow_event *http(enum fe_l7_type t, const char *cip, const char **cl, size_t ncl,
                               const char *method, const char *url, const char *ctype)
{
	struct flow_event *ev = l7ev(t, cip, 41000, "198.18.1.10", 80, cl, ncl, LBL(L_WEB), FE_L4_TCP);
	ev->l7.kind = FE_L7K_HTTP;
	ev->l7.http.method = method;
	ev->l7.http.url = url;
	ev->l7.http.protocol = "HTTP/1.1";
	if (ctype) {
		struct fe_http_header *h = fe_alloc(ev, 2 * sizeof(*h));
		h[0].key = "Accept";
		h[0].value = "*/*";
		h[1].key = "Content-Type";
		h[1].value = ctype;
		ev->l7.http.headers = h;
		ev->l7.http.n_headers = 2;
	}
	return ev;
}

static void expect7(const char *name, const struct policy *p, struct flow_event *ev, const char *want)
{
	struct policy_verdict v;
	char buf[200];
	int rc = policy_eval_l7(p, ev, &v);
	CHECK_STR(name, rc ? "error" : fmt_verdict(p, &v, buf, sizeof(buf)), want);
	flow_event_free(ev);
}

static void test_l7(void)
{
	struct policy *p = load(example);
	if (!p)
		return;
	expect7("HTTP GET allowed by path regex", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/api/v1/items?id=3", NULL),
	        "allow:web-from-frontend:0:0:ingress");
	expect7("HTTP path regex in RE2 syntax (\\d+)", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/api/v22/items", NULL),
	        "allow:web-from-frontend:0:0:ingress");
	expect7("HTTP path regex: \\d is a digit", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/api/vd/items", NULL),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP DELETE: no L7 rule matches", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "DELETE", "http://web/api/v1/items", NULL),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP path regex is anchored", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/x/api/v1/items", NULL),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP method regex is anchored", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GETX", "http://web/api/v1/items", NULL),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP POST with the header", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "POST", "http://web:80/api/v1/orders",
	             "application/json"),
	        "allow:web-from-frontend:0:0:ingress");
	expect7("HTTP POST with another content type", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "POST", "http://web/api/v1/orders", "text/plain"),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP response evaluated like its request", p,
	        http(FE_L7_RESPONSE, "198.19.7.5", LBL(L_FRONT), "DELETE", "http://web/api/v1/items", NULL),
	        "deny:-:0:133:l7-unmatched");
	expect7("HTTP response of the POST (header checked on the request only)", p,
	        http(FE_L7_RESPONSE, "198.19.7.5", LBL(L_FRONT), "POST", "http://web/api/v1/orders", "text/html"),
	        "allow:web-from-frontend:0:0:ingress");
	expect7("office: plain L3/L4 allow allows every request", p,
	        http(FE_L7_REQUEST, "198.18.5.5", LBL(L_WORLD), "DELETE", "http://web/admin", NULL),
	        "allow:web-from-office:0:0:ingress");
	expect7("unknown client: default", p,
	        http(FE_L7_REQUEST, "192.0.2.9", LBL(L_WORLD), "GET", "http://web/api/v1/items", NULL),
	        "deny:-:0:133");

	const char *queries[][2] = {
		{ "www.example.com.", "allow:dns:0:0:egress" },
		{ "WWW.Example.COM.", "allow:dns:0:0:egress" },
		{ "example.org.", "allow:dns:0:0:egress" },
		{ "a.b.example.com.", "deny:-:0:133:l7-unmatched" },
		{ "example.com.", "deny:-:0:133:l7-unmatched" },
		{ "evil.org.", "deny:-:0:133:l7-unmatched" },
	};
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct flow_event *ev = l7ev(FE_L7_REQUEST, "198.18.1.10", 50000, "192.0.2.53", 53, LBL(L_WEB),
		                             LBL(L_WORLD), FE_L4_UDP);
		ev->l7.kind = FE_L7K_DNS;
		ev->l7.dns.query = queries[i][0];
		char name[100];
		snprintf(name, sizeof(name), "DNS %s", queries[i][0]);
		expect7(name, p, ev, queries[i][1]);
	}
	struct flow_event *ev = l7ev(FE_L7_RESPONSE, "198.18.1.10", 50000, "192.0.2.53", 53, LBL(L_WEB),
	                             LBL(L_WORLD), FE_L4_UDP);
	ev->l7.kind = FE_L7K_DNS;
	ev->l7.dns.query = "evil.org.";
	expect7("DNS response evaluated like its query", p, ev, "deny:-:0:133:l7-unmatched");

	struct { const char *key, *topic, *client; int req; const char *want; } kafka[] = {
		{ "produce", "orders", "x", 1, "allow:kafka-producer:0:0:egress" },
		{ "produce", "orders,orders", "x", 1, "allow:kafka-producer:0:0:egress" },
		{ "produce", "orders,audit", "x", 1, "deny:-:0:133:l7-unmatched" },
		{ "produce", "payments", "x", 1, "deny:-:0:133:l7-unmatched" },
		{ "metadata", "orders", NULL, 1, "allow:kafka-producer:0:0:egress" },
		{ "fetch", "orders", "web", 1, "allow:kafka-producer:0:0:egress" },
		{ "fetch", "orders", "batch", 1, "deny:-:0:133:l7-unmatched" },
		{ "fetch", "orders", NULL, 0, "allow:kafka-producer:0:0:egress" },
		{ "createtopics", "orders", "web", 1, "deny:-:0:133:l7-unmatched" },
		{ "apiversions", "", "web", 1, "deny:-:0:133:l7-unmatched" },
	};
	for (size_t i = 0; i < sizeof(kafka) / sizeof(kafka[0]); i++) {
		ev = l7ev(kafka[i].req ? FE_L7_REQUEST : FE_L7_RESPONSE, "198.18.1.10", 50000, "198.18.2.2", 9092,
		          LBL(L_WEB), LBL(L_KAFKA), FE_L4_TCP);
		ev->l7.kind = FE_L7K_KAFKA;
		ev->l7.kafka.api_key = kafka[i].key;
		ev->l7.kafka.topic = kafka[i].topic;
		ev->l7.kafka.client_id = kafka[i].client;
		char name[120];
		snprintf(name, sizeof(name), "Kafka %s %s topic '%s' client %s", kafka[i].req ? "request" : "response",
		         kafka[i].key, kafka[i].topic, kafka[i].client ? kafka[i].client : "-");
		expect7(name, p, ev, kafka[i].want);
	}
	ev = http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/api/v1/items", NULL);
	ev->type = FE_TYPE_L3_L4;
	struct policy_verdict v;
	CHECK("not an L7 event", policy_eval_l7(p, ev, &v) == -1);
	flow_event_free(ev);
	policy_unref(p);

	/* a deny rule with L7 rules: denies only matching transactions, never
	 * the connection */
	static const char deny_l7[] =
		"mode: enforce\n"
		"defaultAction: allow\n"
		"rules:\n"
		"  - name: no-admin\n"
		"    direction: ingress\n"
		"    action: deny\n"
		"    toPorts:\n"
		"      - ports: [{port: \"80\", protocol: TCP}]\n"
		"        rules: {http: [{path: \"/admin(/.*)?\"}, {host: \"internal\\\\..*\"}]}\n";
	p = load(deny_l7);
	CHECK("deny-with-L7 policy loads", p != NULL);
	if (!p)
		return;
	expect34("L3/L4: deny rule with L7 rules does not deny the connection", p,
	         q4("198.18.0.5", 40000, "198.18.1.10", 80, 6, LBL(L_FRONT), LBL(L_WEB)), "allow:-:0:0");
	expect7("/admin denied by rule", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/admin/users", NULL),
	        "deny:no-admin:0:181:ingress");
	expect7("host regex", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://internal.corp:80/", NULL),
	        "deny:no-admin:0:181:ingress");
	struct flow_event *lev = http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/admin", NULL);
	lev->time_ns = 1700000000000000000ull;
	CHECK("label L7", policy_label_l7(p, lev) == 0);
	char lj[3000], lw[600];
	json_of(lev, lj, sizeof(lj));
	snprintf(lw, sizeof(lw), "\"ingress_denied_by\":[{\"name\":\"no-admin\",\"revision\":\"%llu\","
	         "\"kind\":\"FlowdPolicy\"}]}", (unsigned long long)policy_revision(p));
	CHECK("L7 denial is AUDIT, never DROPPED", strstr(lj, "\"verdict\":\"AUDIT\"") && !strstr(lj, "drop_reason"));
	CHECK("L7 denial names the deny rule", strstr(lj, lw) != NULL);
	flow_event_free(lev);
	expect7("other path allowed by default", p,
	        http(FE_L7_REQUEST, "198.19.7.5", LBL(L_FRONT), "GET", "http://web/administrator", NULL),
	        "allow:-:0:0");
	policy_unref(p);
}

/* --- events ------------------------------------------------------------------ */

static void json_of(struct flow_event *ev, char *out, size_t n)
{
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf b = { 0 };
	fe_record_to_json(&rec, &b);
	snprintf(out, n, "%.*s", b.len ? (int)b.len - 1 : 0, b.data ? b.data : "");
	fe_buf_free(&b);
}

static void test_label_event(void)
{
	struct policy *p = load(example);
	if (!p)
		return;
	char want[1200], got[2000];
	struct policy_verdict v;
	struct policy_l34_query q = q4("198.18.1.10", 40000, "192.0.2.1", 23, 6, LBL(L_WEB), LBL(L_WORLD));
	policy_eval_l34(p, &q, &v);

	struct flow_event *ev = flow_event_new();
	ev->time_ns = 1700000000000000000ull;
	ev->type = FE_TYPE_L3_L4;
	ev->event_type = 5;
	CHECK("label dropped", policy_label_event(p, &v, ev, true, true) == 0);
	json_of(ev, got, sizeof(got));
	snprintf(want, sizeof(want),
	         "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"verdict\":\"DROPPED\",\"drop_reason\":181,"
	         "\"source\":{},\"destination\":{},\"Type\":\"L3_L4\",\"event_type\":{\"type\":5},"
	         "\"policy_match_type\":3,\"drop_reason_desc\":\"POLICY_DENY\","
	         "\"egress_denied_by\":[{\"name\":\"no-telnet\",\"revision\":\"%llu\",\"kind\":\"FlowdPolicy\"}]},"
	         "\"time\":\"2023-11-14T22:13:20Z\"}",
	         (unsigned long long)policy_revision(p));
	CHECK_STR("policy-verdict event, denied by rule, dropped", got, want);
	flow_event_free(ev);

	ev = flow_event_new();
	ev->time_ns = 1700000000000000000ull;
	ev->type = FE_TYPE_L3_L4;
	CHECK("label audited", policy_label_event(p, &v, ev, false, false) == 0);
	json_of(ev, got, sizeof(got));
	snprintf(want, sizeof(want),
	         "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"verdict\":\"AUDIT\","
	         "\"source\":{},\"destination\":{},\"Type\":\"L3_L4\","
	         "\"egress_denied_by\":[{\"name\":\"no-telnet\",\"revision\":\"%llu\",\"kind\":\"FlowdPolicy\"}]},"
	         "\"time\":\"2023-11-14T22:13:20Z\"}",
	         (unsigned long long)policy_revision(p));
	CHECK_STR("denied but not dropped: AUDIT, no drop reason", got, want);
	flow_event_free(ev);

	q = q4("198.18.0.5", 40000, "198.18.1.10", 80, 6, LBL(L_FRONT), LBL(L_WEB));
	policy_eval_l34(p, &q, &v);
	ev = flow_event_new();
	ev->time_ns = 1700000000000000000ull;
	ev->type = FE_TYPE_L3_L4;
	policy_label_event(p, &v, ev, false, true);
	json_of(ev, got, sizeof(got));
	snprintf(want, sizeof(want),
	         "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"verdict\":\"FORWARDED\","
	         "\"source\":{},\"destination\":{},\"Type\":\"L3_L4\",\"policy_match_type\":2,"
	         "\"ingress_allowed_by\":[{\"name\":\"web-from-frontend\",\"revision\":\"%llu\",\"kind\":\"FlowdPolicy\"}]},"
	         "\"time\":\"2023-11-14T22:13:20Z\"}",
	         (unsigned long long)policy_revision(p));
	CHECK_STR("allowed by an ingress rule", got, want);
	flow_event_free(ev);

	q = q4("192.0.2.9", 40000, "198.18.1.10", 80, 6, LBL(L_WORLD), LBL(L_WEB));
	policy_eval_l34(p, &q, &v);
	ev = flow_event_new();
	ev->time_ns = 1700000000000000000ull;
	ev->type = FE_TYPE_L3_L4;
	policy_label_event(p, &v, ev, true, true);
	json_of(ev, got, sizeof(got));
	CHECK_STR("default deny, dropped", got,
	          "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"verdict\":\"DROPPED\",\"drop_reason\":133,"
	          "\"source\":{},\"destination\":{},\"Type\":\"L3_L4\",\"drop_reason_desc\":\"POLICY_DENIED\"},"
	          "\"time\":\"2023-11-14T22:13:20Z\"}");
	flow_event_free(ev);
	policy_unref(p);
}

/* --- errors ------------------------------------------------------------------ */

static void expect_err(const char *name, const char *text, const char *want)
{
	char err[4096];
	struct policy *p = policy_load_string(text, strlen(text), "p.yaml", err, sizeof(err));
	CHECK(name, p == NULL);
	if (p) {
		policy_unref(p);
		return;
	}
	char n2[200];
	snprintf(n2, sizeof(n2), "%s: message", name);
	CHECK_STR(n2, err, want);
}

#define HDR "mode: enforce\ndefaultAction: deny\nrules:\n"

static void test_errors(void)
{
	expect_err("missing mode", "defaultAction: deny\n",
	           "p.yaml:1:1: policy file: \"mode\" is required (enforce or audit)");
	expect_err("bad mode", "mode: strict\ndefaultAction: deny\n",
	           "p.yaml:1:7: mode: unknown value \"strict\" (expected one of: enforce, audit)");
	expect_err("unknown top key", "mode: audit\ndefaultAction: allow\nrule: []\n",
	           "p.yaml:3:1: policy file: unknown key \"rule\" (expected one of: mode, defaultAction, rules)");
	expect_err("unknown rule key", HDR "  - {name: a, action: allow, direction: ingress, actoin: x}\n",
	           "p.yaml:4:50: rules[0]: unknown key \"actoin\" (expected one of: name, action, direction, "
	           "endpointSelector, fromEndpoints, fromCIDR, fromCIDRSet, fromEntities, toEndpoints, "
	           "toCIDR, toCIDRSet, toEntities, toFQDNs, toPorts)");
	expect_err("missing direction", HDR "  - {name: a, action: allow}\n",
	           "p.yaml:4:5: rules[0]: \"name\", \"action\" and \"direction\" are required");
	expect_err("bad action", HDR "  - {name: a, action: permit, direction: ingress}\n",
	           "p.yaml:4:23: action: unknown value \"permit\" (expected one of: allow, deny)");
	expect_err("duplicate names",
	           HDR "  - {name: a, action: allow, direction: ingress}\n"
	               "  - {name: a, action: deny, direction: egress}\n",
	           "p.yaml:5:12: rules[1]: duplicate rule name \"a\" (first at line 4)");
	expect_err("bad rule name", HDR "  - {name: \"a b\", action: allow, direction: ingress}\n",
	           "p.yaml:4:12: rules[0]: name \"a b\" must be 1-253 characters of [A-Za-z0-9._-]");
	expect_err("from* in an egress rule",
	           HDR "  - {name: a, action: allow, direction: egress, fromCIDR: [10.0.0.0/8]}\n",
	           "p.yaml:4:49: rules[0]: fromCIDR is for ingress rules; this rule is egress (use toCIDR)");
	expect_err("toFQDNs in an ingress rule",
	           HDR "  - {name: a, action: allow, direction: ingress, toFQDNs: [{matchName: x.com}]}\n",
	           "p.yaml:4:50: rules[0]: toFQDNs is for egress rules; this rule is ingress");
	expect_err("bad CIDR",
	           HDR "  - {name: a, action: allow, direction: egress, toCIDR: [10.0.0.0/40]}\n",
	           "p.yaml:4:58: toCIDR: \"10.0.0.0/40\": bad prefix length (0..32)");
	expect_err("CIDR host bits",
	           HDR "  - {name: a, action: allow, direction: egress, toCIDR: [\"10.1.2.3/8\"]}\n",
	           "p.yaml:4:58: toCIDR: \"10.1.2.3/8\" has bits set past the prefix length (did you mean 10.0.0.0/8?)");
	expect_err("except outside",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    fromCIDRSet: [{cidr: 10.0.0.0/8, except: [192.168.0.0/16]}]\n",
	           "p.yaml:7:47: except: 192.168.0.0/16 is not inside 10.0.0.0/8");
	expect_err("port out of range",
	           HDR "  - {name: a, action: allow, direction: ingress, toPorts: [{ports: [{port: \"70000\"}]}]}\n",
	           "p.yaml:4:76: port: 70000 is out of range (0..65535)");
	expect_err("named port",
	           HDR "  - {name: a, action: allow, direction: ingress, toPorts: [{ports: [{port: http}]}]}\n",
	           "p.yaml:4:76: port: \"http\": named ports are not supported (flowd has no pod specs); "
	           "give a number 0-65535");
	expect_err("endPort below port",
	           HDR "  - {name: a, action: allow, direction: ingress,\n"
	               "     toPorts: [{ports: [{port: \"90\", endPort: 80}]}]}\n",
	           "p.yaml:5:47: endPort 80 is below port 90");
	expect_err("bad protocol",
	           HDR "  - {name: a, action: allow, direction: ingress, toPorts: [{ports: [{port: \"1\", protocol: tcp}]}]}\n",
	           "p.yaml:4:91: protocol: unknown value \"tcp\" (expected one of: TCP, UDP, SCTP, ANY)");
	expect_err("bad regex",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    toPorts: [{ports: [{port: \"80\"}], rules: {http: [{path: \"/api/(v1\"}]}}]\n",
	           "p.yaml:7:61: http.path: \"/api/(v1\": invalid regular expression: Unmatched ( or \\(");
	/* fuzz_policy: glibc's regcomp took > 2 GB for this path (nested
	 * repetitions); RE2's bounds refuse it */
	expect_err("regex: quantifier on a quantifier (fuzz_policy oom)",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    toPorts: [{ports: [{port: \"80\"}], rules: {http: [{path: \"/++++++++++++++++api/.*\"}]}}]\n",
	           "p.yaml:7:61: http.path: \"/++++++++++++++++api/.*\": bad repetition operator");
	expect_err("regex: repetition counts multiplied above 1000",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    toPorts: [{ports: [{port: \"80\"}], rules: {http: [{path: \"(a{100}){100}\"}]}}]\n",
	           "p.yaml:7:61: http.path: \"(a{100}){100}\": repetition count above 1000");
	expect_err("two L7 kinds",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    toPorts: [{ports: [{port: \"80\"}], rules: {http: [{}], dns: [{matchName: a.b}]}}]\n",
	           "p.yaml:7:46: rules: give one of http, dns, kafka per toPorts entry");
	expect_err("dns rule with both",
	           HDR "  - name: a\n    action: allow\n    direction: egress\n"
	               "    toPorts: [{ports: [{port: \"53\"}], rules: {dns: [{matchName: a.b, matchPattern: \"*\"}]}}]\n",
	           "p.yaml:7:53: dns: give exactly one of matchName and matchPattern");
	expect_err("bad DNS name",
	           HDR "  - {name: a, action: allow, direction: egress, toFQDNs: [{matchName: \"a b.com\"}]}\n",
	           "p.yaml:4:71: toFQDNs: \"a b.com\" is not a valid DNS name (letters, digits, '-', '_', '.')");
	expect_err("kafka unknown apiKey",
	           HDR "  - name: a\n    action: allow\n    direction: egress\n"
	               "    toPorts: [{ports: [{port: \"9092\"}], rules: {kafka: [{apiKey: produceit}]}}]\n",
	           "p.yaml:7:66: kafka.apiKey: unknown API key \"produceit\" (names as Hubble prints them: "
	           "produce, fetch, offsets, metadata, ...)");
	expect_err("kafka role and apiKey",
	           HDR "  - name: a\n    action: allow\n    direction: egress\n"
	               "    toPorts: [{ports: [{port: \"9092\"}], rules: {kafka: [{role: produce, apiKey: fetch}]}}]\n",
	           "p.yaml:7:81: kafka: give either \"role\" or \"apiKey\", not both");
	expect_err("kafka topic",
	           HDR "  - name: a\n    action: allow\n    direction: egress\n"
	               "    toPorts: [{ports: [{port: \"9092\"}], rules: {kafka: [{topic: \"a/b\"}]}}]\n",
	           "p.yaml:7:65: kafka.topic: \"a/b\" is not a Kafka topic name (1-249 of [a-zA-Z0-9._-])");
	expect_err("selector operator",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    endpointSelector: {matchExpressions: [{key: app, operator: Equals}]}\n",
	           "p.yaml:7:64: operator: unknown value \"Equals\" (expected one of: In, NotIn, Exists, DoesNotExist)");
	expect_err("In without values",
	           HDR "  - name: a\n    action: allow\n    direction: ingress\n"
	               "    endpointSelector: {matchExpressions: [{key: app, operator: In}]}\n",
	           "p.yaml:7:64: matchExpressions: operator In needs a non-empty \"values\" list");
	expect_err("k8s-only entity",
	           HDR "  - {name: a, action: allow, direction: ingress, fromEntities: [cluster]}\n",
	           "p.yaml:4:65: fromEntities: entity \"cluster\" exists only in Kubernetes clusters; flowd "
	           "knows host, world and all");
	expect_err("wrong type",
	           HDR "  - {name: a, action: allow, direction: ingress, fromEndpoints: {app: x}}\n",
	           "p.yaml:4:65: fromEndpoints: expected a list, got a mapping");
	expect_err("several errors",
	           HDR "  - {name: a, action: allow, direction: ingress, fromCIDR: [1.2.3.4/33]}\n"
	               "  - {name: b, action: allow, direction: ingress, toPorts: [{ports: []}]}\n",
	           "p.yaml:4:61: fromCIDR: \"1.2.3.4/33\": bad prefix length (0..32)\n"
	           "p.yaml:5:68: toPorts: \"ports\" is empty");
	expect_err("YAML syntax", "mode: enforce\ndefaultAction: [deny\n",
	           "p.yaml:3:1: did not find expected ',' or ']' while parsing a flow sequence");
}

static void test_patterns(void)
{
	static const char text[] =
		"mode: audit\ndefaultAction: deny\nrules:\n"
		"  - name: all\n    action: allow\n    direction: egress\n"
		"    toFQDNs: [{matchPattern: \"*\"}]\n"
		"  - name: mid\n    action: allow\n    direction: egress\n"
		"    endpointSelector: {matchLabels: {app: frontend}}\n"
		"    toFQDNs: [{matchPattern: \"api-*.Example.com.\"}]\n";
	struct policy *p = load(text);
	if (!p)
		return;
	CHECK("'*' matches any name", policy_fqdn_relevant(p, "a.b.c"));
	policy_unref(p);
	static const char text2[] =
		"mode: audit\ndefaultAction: deny\nrules:\n"
		"  - name: mid\n    action: allow\n    direction: egress\n"
		"    toFQDNs: [{matchPattern: \"api-*.Example.com.\"}, {matchName: \"Exact.ORG.\"}]\n";
	p = load(text2);
	if (!p)
		return;
	CHECK("pattern, case-insensitive, trailing dot", policy_fqdn_relevant(p, "api-eu1.example.com"));
	CHECK("'*' may be empty", policy_fqdn_relevant(p, "api-.example.com"));
	CHECK("'*' does not cross a dot", !policy_fqdn_relevant(p, "api-eu.1.example.com"));
	CHECK("prefix required", !policy_fqdn_relevant(p, "xapi-eu.example.com"));
	CHECK("matchName lower-cased", policy_fqdn_relevant(p, "exact.org"));
	CHECK("matchName exact", !policy_fqdn_relevant(p, "www.exact.org"));
	policy_unref(p);
}

static void test_reload(void)
{
	char path[] = "/tmp/flowd-test-policy-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	close(fd);
	FILE *f = fopen(path, "w");
	fputs(example, f);
	fclose(f);
	char err[2048];
	struct policy *p0 = policy_load_file(path, err, sizeof(err));
	CHECK("file loads", p0 != NULL);
	struct policy_store *s = policy_store_new(p0);
	struct policy *cur = policy_store_get(s);
	uint64_t rev = policy_revision(cur);

	f = fopen(path, "w");
	fputs("mode: enforce\ndefaultAction: allow\nrules:\n  - {name: x, action: deny, direction: sideways}\n", f);
	fclose(f);
	CHECK("invalid reload refused", policy_store_reload(s, path, err, sizeof(err)) == -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:4:40: direction: unknown value \"sideways\" (expected one of: "
	         "ingress, egress)", path);
	CHECK_STR("invalid reload message", err, want);
	struct policy *after = policy_store_get(s);
	CHECK("old policy kept", after == cur && policy_rule_count(after) == 7);
	policy_unref(after);

	f = fopen(path, "w");
	fputs("mode: audit\ndefaultAction: allow\n", f);
	fclose(f);
	CHECK("valid reload", policy_store_reload(s, path, err, sizeof(err)) == 0);
	struct policy *np = policy_store_get(s);
	CHECK("new policy in place", np != cur && policy_mode(np) == POLICY_AUDIT && policy_rule_count(np) == 0);
	CHECK("revision grows", policy_revision(np) > rev);
	CHECK_U64("old policy still usable by its holder", policy_rule_count(cur), 7);
	policy_unref(np);
	policy_unref(cur);
	policy_store_free(s);
	unlink(path);

	struct policy_store *empty = policy_store_new(NULL);
	CHECK("empty store", policy_store_get(empty) == NULL);
	policy_store_free(empty);
}

/* The README shows the example above: it must stay valid and the same. */
static void test_readme_example(void)
{
	FILE *f = fopen("README.md", "r");
	CHECK("README.md readable (run from the repository root)", f != NULL);
	if (!f)
		return;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *a = strstr(buf, "```yaml\nmode: enforce");
	const char *b = a ? strstr(a + 8, "```") : NULL;
	CHECK("README has the policy example", a && b);
	if (!a || !b)
		return;
	a += 8;
	CHECK("README example is the tested one", (size_t)(b - a) == strlen(example) &&
	      !memcmp(a, example, strlen(example)));
}

/* Inputs that once crashed (found by tests/fuzz/fuzz_policy.c), kept as
 * named vectors in tests/unit/data/policy/. */
static void test_fuzz_regressions(void)
{
	char err[4096];
	/* a rule that failed left its fields in the slot the next rule reused */
	const char *f = "tests/unit/data/policy/fuzz_failed_rule_slot_reuse.yaml";
	struct policy *p = policy_load_file(f, err, sizeof(err));
	CHECK("fuzz: failed rule slot reuse: refused", p == NULL);
	char want[1024];
	snprintf(want, sizeof(want), "%s:19:5: rules[0]: duplicate key \"action\"\n"
	         "%s:20:5: rules[0]: duplicate key \"endpointSelector\"\n"
	         "%s:21:5: rules[0]: duplicate key \"toPorts\"", f, f, f);
	CHECK_STR("fuzz: failed rule slot reuse: message", err, want);
	policy_unref(p);

	/* a failed selector's slot was reused with its old requirement count */
	static const char sel[] =
		"mode: audit\ndefaultAction: allow\nrules:\n"
		"  - name: a\n    action: allow\n    direction: ingress\n"
		"    fromEndpoints:\n"
		"      - matchLabels: {\"bad key!\": x, a: b}\n"
		"      - matchLabels: {a: b, c: d, e: f}\n";
	p = policy_load_string(sel, strlen(sel), "sel.yaml", err, sizeof(err));
	CHECK("failed selector slot reuse: refused", p == NULL);
	CHECK_STR("failed selector slot reuse: message", err,
	          "sel.yaml:8:23: matchLabels: label key \"bad key!\": the name must be 1-63 characters "
	          "[A-Za-z0-9-_.], starting and ending with a letter or digit");
	policy_unref(p);
}

/* What flowd will emit: the kernel's per-flow result (here from the compiled
 * form, which equals the kernel's bit for bit: tests/bpf/test_policy_bpf.c)
 * turned into Hubble's policy-verdict event, as JSON and as compact text. */
static void verdict_case(const char *name, struct policy *p, struct identity_db *ids,
                         const struct policy_compiled *c, const char *src, uint16_t sport,
                         const char *dst, uint16_t dport, uint8_t dir, const char *want_json,
                         const char *want_compact)
{
	struct flow_key k;
	memset(&k, 0, sizeof(k));
	inet_pton(AF_INET, src, k.saddr);
	inet_pton(AF_INET, dst, k.daddr);
	k.sport = sport;
	k.dport = dport;
	k.family = 4;
	k.proto = 6;
	k.ifindex = 3;
	k.direction = dir;
	struct flow_rec rec = { .packets = 1, .bytes = 74, .first_seen_ns = 1700000000000000000ull,
		                .last_seen_ns = 1700000000000000000ull, .first_tcp_flags = FLOW_TCP_SYN,
		                .tcp_flags = FLOW_TCP_SYN };
	struct flow_l34_opts o = { .node_name = "node1", .ifname = "eth0",
		                   .uuid = "0598f6e1-4542-494c-a061-711065e865dd" };
	struct policy_result r;
	policy_compiled_lookup(c, 4, k.saddr, k.daddr, 6, dport, &r);
	struct flow_event *ev = flow_event_new();
	int rc = flow_l34_event(ev, FE_STATS_START, &k, &rec, NULL, &o);
	rc |= identity_fill_event(ids, ev);
	rc |= policy_verdict_event(p, &r, ev);
	char n2[200];
	snprintf(n2, sizeof(n2), "%s: built", name);
	CHECK(n2, rc == 0);
	struct fe_record fr = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf b = { 0 };
	fe_record_to_json(&fr, &b);
	snprintf(n2, sizeof(n2), "%s: JSON", name);
	CHECK_STR(n2, b.data ? b.data : "", want_json);
	fe_buf_free(&b);
	char *txt = NULL;
	size_t tl = 0;
	FILE *m = open_memstream(&txt, &tl);
	struct fe_printer_options po = { .format = FE_OUTPUT_COMPACT, .color = FE_COLOR_NEVER,
		                         .print_policy_names = true };
	struct fe_printer *pr = fe_printer_new(&po, m);
	fe_printer_print(pr, &fr);
	fe_printer_flush(pr);
	fe_printer_free(pr);
	fclose(m);
	snprintf(n2, sizeof(n2), "%s: compact", name);
	CHECK_STR(n2, txt, want_compact);
	free(txt);
	flow_event_free(ev);
}

static void test_verdict_events(void)
{
	static const char ids_text[] =
		"endpoints:\n"
		"  - {addresses: [198.18.1.10], namespace: shop, pod: web-0, labels: {app: web}, identity: 1000}\n"
		"  - {addresses: [198.19.7.5], namespace: shop, pod: frontend-0, labels: {app: frontend}, identity: 1001}\n"
		"host: {detect: false}\n";
	char err[1024];
	struct identity_db *ids = identity_db_load_string(ids_text, strlen(ids_text), "ids", NULL, err, sizeof(err));
	struct policy *p = load(example);
	struct policy_compiled *c = p && ids ? policy_compile(p, ids, NULL, err, sizeof(err)) : NULL;
	CHECK("verdict events: policy compiles", c != NULL);
	if (!c)
		goto out;
	char want[2000], rev[32];
	snprintf(rev, sizeof(rev), "%llu", (unsigned long long)policy_revision(p));
	snprintf(want, sizeof(want),
	         "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd\","
	         "\"verdict\":\"FORWARDED\",\"IP\":{\"source\":\"198.19.7.5\",\"destination\":\"198.18.1.10\","
	         "\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":41000,\"destination_port\":80,"
	         "\"flags\":{\"SYN\":true}}},\"source\":{\"identity\":1001,\"namespace\":\"shop\",\"labels\":["
	         "\"k8s:app=frontend\",\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":\"frontend-0\"},"
	         "\"destination\":{\"identity\":1000,\"namespace\":\"shop\",\"labels\":[\"k8s:app=web\","
	         "\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":\"web-0\"},\"Type\":\"L3_L4\","
	         "\"node_name\":\"node1\",\"event_type\":{\"type\":5},\"traffic_direction\":\"INGRESS\","
	         "\"policy_match_type\":2,\"is_reply\":false,\"interface\":{\"index\":3,\"name\":\"eth0\"},"
	         "\"Summary\":\"TCP Flags: SYN\",\"ingress_allowed_by\":[{\"name\":\"web-from-frontend\","
	         "\"revision\":\"%s\",\"kind\":\"FlowdPolicy\"}]},\"node_name\":\"node1\","
	         "\"time\":\"2023-11-14T22:13:20Z\"}\n", rev);
	verdict_case("allowed", p, ids, c, "198.19.7.5", 41000, "198.18.1.10", 80, FLOW_DIR_INGRESS, want,
	             "Nov 14 22:13:20.000: shop/frontend-0:41000 (ID:1001) -> shop/web-0:80 (ID:1000) "
	             "policy-verdict:L3-L4 INGRESS ALLOWED BY web-from-frontend (FlowdPolicy) (TCP Flags: SYN)\n");
	snprintf(want, sizeof(want),
	         "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd\","
	         "\"verdict\":\"DROPPED\",\"drop_reason\":181,\"IP\":{\"source\":\"198.18.1.10\","
	         "\"destination\":\"192.0.2.1\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":40000,"
	         "\"destination_port\":23,\"flags\":{\"SYN\":true}}},\"source\":{\"identity\":1000,\"namespace\":"
	         "\"shop\",\"labels\":[\"k8s:app=web\",\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":"
	         "\"web-0\"},\"destination\":{\"identity\":2,\"labels\":[\"reserved:world\"]},\"Type\":\"L3_L4\","
	         "\"node_name\":\"node1\",\"event_type\":{\"type\":5},\"traffic_direction\":\"EGRESS\","
	         "\"policy_match_type\":3,\"drop_reason_desc\":\"POLICY_DENY\",\"interface\":{\"index\":3,"
	         "\"name\":\"eth0\"},\"Summary\":\"TCP Flags: SYN\",\"egress_denied_by\":[{\"name\":\"no-telnet\","
	         "\"revision\":\"%s\",\"kind\":\"FlowdPolicy\"}]},\"node_name\":\"node1\","
	         "\"time\":\"2023-11-14T22:13:20Z\"}\n", rev);
	verdict_case("denied by rule", p, ids, c, "198.18.1.10", 40000, "192.0.2.1", 23, FLOW_DIR_EGRESS, want,
	             "Nov 14 22:13:20.000: shop/web-0:40000 (ID:1000) <> 192.0.2.1:23 (world) "
	             "policy-verdict:L4-Only EGRESS DENIED BY no-telnet (FlowdPolicy) (TCP Flags: SYN)\n");
	verdict_case("default deny", p, ids, c, "192.0.2.9", 40000, "198.18.1.10", 8080, FLOW_DIR_INGRESS,
	             "{\"flow\":{\"time\":\"2023-11-14T22:13:20Z\",\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd\","
	             "\"verdict\":\"DROPPED\",\"drop_reason\":133,\"IP\":{\"source\":\"192.0.2.9\",\"destination\":"
	             "\"198.18.1.10\",\"ipVersion\":\"IPv4\"},\"l4\":{\"TCP\":{\"source_port\":40000,"
	             "\"destination_port\":8080,\"flags\":{\"SYN\":true}}},\"source\":{\"identity\":2,\"labels\":"
	             "[\"reserved:world\"]},\"destination\":{\"identity\":1000,\"namespace\":\"shop\",\"labels\":"
	             "[\"k8s:app=web\",\"k8s:io.kubernetes.pod.namespace=shop\"],\"pod_name\":\"web-0\"},"
	             "\"Type\":\"L3_L4\",\"node_name\":\"node1\",\"event_type\":{\"type\":5},"
	             "\"traffic_direction\":\"INGRESS\",\"drop_reason_desc\":\"POLICY_DENIED\",\"interface\":"
	             "{\"index\":3,\"name\":\"eth0\"},\"Summary\":\"TCP Flags: SYN\"},\"node_name\":\"node1\","
	             "\"time\":\"2023-11-14T22:13:20Z\"}\n",
	             "Nov 14 22:13:20.000: 192.0.2.9:40000 (world) <> shop/web-0:8080 (ID:1000) "
	             "policy-verdict:none INGRESS DENIED (TCP Flags: SYN)\n");

	/* the flow's own L3/L4 events carry the verdict too */
	struct policy_result r = { .verdict = POLICY_VERDICT_DROPPED, .drop_reason = POLICY_REASON_DENIED,
		                   .rule_id = POLICY_RULE_NONE, .revision = 1 };
	struct flow_event *ev = flow_event_new();
	ev->is_reply = 0;
	ev->event_type = 4;    /* a trace event at from-network */
	ev->event_sub_type = 10;
	ev->trace_observation_point = 10;
	CHECK("label flow: dropped (a drop event now)", policy_label_flow(&r, ev) == 0 && ev->verdict == FE_DROPPED &&
	      ev->drop_reason == 133 && ev->drop_reason_desc == 133 && ev->is_reply == -1 &&
	      ev->event_type == 1 && ev->event_sub_type == 133 && ev->trace_observation_point == 0);
	r.verdict = POLICY_VERDICT_NONE;
	CHECK("label flow: no policy", policy_label_flow(&r, ev) == -EINVAL);
	CHECK("verdict event: no policy", policy_verdict_event(p, &r, ev) == -EINVAL);
	flow_event_free(ev);
out:
	policy_compiled_free(c);
	policy_unref(p);
	identity_db_unref(ids);
}

int main(void)
{
	test_readme_example();
	test_verdict_events();
	test_fuzz_regressions();
	test_example_l34();
	test_precedence_and_selectors();
	test_l7();
	test_label_event();
	test_errors();
	test_patterns();
	test_reload();
	return CHECK_DONE();
}
