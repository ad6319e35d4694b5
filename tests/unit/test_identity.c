/* Unit tests of lib/identity.c: the identities file, address lookups,
 * identity numbers, event endpoints, errors with positions, reloads. */
#include "check.h"
#include "identity.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const no_host[] = { "198.19.255.1", "2001:db8:ffff::1" };
static const struct identity_opts opts_fixed = { .detect_host = false, .host_addrs = no_host,
	                                         .n_host_addrs = 2 };

static const char good[] =
	"# identities of the test network\n"
	"endpoints:\n"
	"  - addresses: [198.18.0.10, \"2001:db8::10\"]\n"
	"    namespace: production\n"
	"    pod: api-gateway-7d9c8b6f4-x2k9p\n"
	"    workload: {name: api-gateway, kind: Deployment}\n"
	"    labels: {app: api-gateway, \"k8s:tier\": edge}\n"
	"    identity: 1000\n"
	"  - addresses: [198.18.0.11]\n"
	"    namespace: production\n"
	"    pod: api-gateway-7d9c8b6f4-abcde\n"
	"    labels: [\"k8s:app=api-gateway\", \"tier=edge\"]\n"
	"  - addresses: [198.18.1.0/24]\n"
	"    namespace: production\n"
	"    labels: {app: db}\n"
	"  - addresses: [198.18.1.7]\n"
	"    namespace: staging\n"
	"    pod: db-0\n"
	"    workloads:\n"
	"      - {name: db, kind: StatefulSet}\n"
	"    labels: {app: db}\n"
	"networks:\n"
	"  - cidr: 203.0.113.0/24\n"
	"    labels: {zone: partner}\n"
	"  - cidr: \"2001:db8:beef::/48\"\n"
	"    identity: 16777300\n"
	"host:\n"
	"  addresses: [198.19.0.1]\n";

static uint32_t id_of(const struct identity_db *db, const char *ip)
{
	const struct identity_endpoint *e = identity_lookup_str(db, ip);
	return e ? e->identity->id : 0;
}

static const char *labels_joined(const struct identity *id, char *buf, size_t len)
{
	buf[0] = '\0';
	size_t used = 0;
	for (size_t i = 0; i < id->n_labels; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", id->labels[i]);
	return buf;
}

static void test_lookups(void)
{
	char err[2048];
	struct identity_db *db = identity_db_load_string(good, strlen(good), "ids.yaml", &opts_fixed,
	                                                  err, sizeof(err));
	CHECK("good file loads", db != NULL);
	if (!db) {
		printf("  %s\n", err);
		return;
	}
	char buf[512];
	const struct identity_endpoint *e = identity_lookup_str(db, "198.18.0.10");
	CHECK_U64("explicit identity", e->identity->id, 1000);
	CHECK_STR("namespace", e->namespace_, "production");
	CHECK_STR("pod", e->pod_name, "api-gateway-7d9c8b6f4-x2k9p");
	CHECK_U64("one workload", e->n_workloads, 1);
	CHECK_STR("workload kind", e->workloads[0].kind, "Deployment");
	CHECK_STR("labels sorted, namespace label added",
	          labels_joined(e->identity, buf, sizeof(buf)),
	          "k8s:app=api-gateway,k8s:io.kubernetes.pod.namespace=production,k8s:tier=edge");
	CHECK_U64("IPv6 address of the same entry", id_of(db, "2001:db8::10"), 1000);
	/* the same label set (map and list forms) shares the identity */
	e = identity_lookup_str(db, "198.18.0.11");
	CHECK_U64("same labels, same identity", e->identity->id, 1000);
	CHECK_STR("own pod name", e->pod_name, "api-gateway-7d9c8b6f4-abcde");

	/* longest prefix: /32 inside a /24 of another label set */
	uint32_t db_prod = id_of(db, "198.18.1.200"), db_stg = id_of(db, "198.18.1.7");
	CHECK("prefix entry has a derived user identity", db_prod >= 256 && db_prod <= 65535);
	CHECK("longest prefix wins", db_stg != db_prod && db_stg >= 256 && db_stg <= 65535);
	CHECK_STR("staging db namespace", identity_lookup_str(db, "198.18.1.7")->namespace_, "staging");
	CHECK_STR("/24 entry has no pod", identity_lookup_str(db, "198.18.1.1")->pod_name ?
	          identity_lookup_str(db, "198.18.1.1")->pod_name : "(none)", "(none)");

	/* networks: CIDR identities */
	e = identity_lookup_str(db, "203.0.113.77");
	CHECK("CIDR identity range", e->identity->id >= 16777216 && e->identity->id <= 33554431);
	CHECK_STR("CIDR identity labels", labels_joined(e->identity, buf, sizeof(buf)),
	          "cidr:203.0.113.0/24,k8s:zone=partner,reserved:world");
	CHECK_U64("explicit CIDR identity", id_of(db, "2001:db8:beef:1::9"), 16777300);

	/* reserved */
	CHECK_U64("world", id_of(db, "192.0.2.1"), 2);
	CHECK_U64("world v6", id_of(db, "2001:db9::1"), 2);
	CHECK_STR("world labels", labels_joined(identity_lookup_str(db, "192.0.2.1")->identity, buf,
	                                        sizeof(buf)), "reserved:world");
	CHECK_U64("host from the file", id_of(db, "198.19.0.1"), 1);
	CHECK_U64("host from options", id_of(db, "198.19.255.1"), 1);
	CHECK_U64("host v6 from options", id_of(db, "2001:db8:ffff::1"), 1);
	CHECK_STR("host labels", labels_joined(identity_lookup_str(db, "198.19.0.1")->identity, buf,
	                                       sizeof(buf)), "reserved:host");
	CHECK_U64("no detection: loopback is world", id_of(db, "127.0.0.1"), 2);
	CHECK("not an address", identity_lookup_str(db, "nope") == NULL);

	/* identity list: sorted, reserved ones included, find by number */
	CHECK_U64("identity count (host, world, 4 label sets... )", identity_db_count(db), 2 + 5);
	CHECK_U64("first is host", identity_db_at(db, 0)->id, 1);
	CHECK_U64("second is world", identity_db_at(db, 1)->id, 2);
	CHECK("find 1000", identity_db_find(db, 1000) && identity_db_find(db, 1000)->n_labels == 3);
	CHECK("find unknown", identity_db_find(db, 999) == NULL);
	identity_db_unref(db);
}

/* Numbers derived from label sets are stable: across reloads, entry order,
 * unrelated additions; and their exact values are part of the contract
 * (users put them in dashboards), so they are pinned here. */
static void test_stable_numbers(void)
{
	static const char a[] =
		"endpoints:\n"
		"  - {addresses: [198.18.0.1], namespace: shop, labels: {app: frontend}}\n"
		"  - {addresses: [198.18.0.2], namespace: shop, labels: {app: checkout}}\n"
		"networks:\n"
		"  - {cidr: 192.0.2.0/24}\n";
	static const char b[] =
		"endpoints:\n"
		"  - {addresses: [198.18.0.9], namespace: other, labels: {app: x}}\n"
		"  - {addresses: [198.18.0.2], namespace: shop, labels: {app: checkout}}\n"
		"  - {addresses: [198.18.0.1], namespace: shop, labels: {app: frontend}}\n"
		"networks:\n"
		"  - {cidr: 192.0.2.0/24}\n";
	char err[1024];
	struct identity_db *da = identity_db_load_string(a, strlen(a), "a", &opts_fixed, err, sizeof(err));
	struct identity_db *dbb = identity_db_load_string(b, strlen(b), "b", &opts_fixed, err, sizeof(err));
	CHECK("both load", da && dbb);
	if (!da || !dbb)
		return;
	CHECK_U64("frontend stable", id_of(da, "198.18.0.1"), id_of(dbb, "198.18.0.1"));
	CHECK_U64("checkout stable", id_of(da, "198.18.0.2"), id_of(dbb, "198.18.0.2"));
	CHECK_U64("cidr stable", id_of(da, "192.0.2.5"), id_of(dbb, "192.0.2.5"));
	CHECK_U64("frontend pinned", id_of(da, "198.18.0.1"), 12612);
	CHECK_U64("checkout pinned", id_of(da, "198.18.0.2"), 16764);
	CHECK_U64("cidr pinned", id_of(da, "192.0.2.5"), 20540710);
	identity_db_unref(da);
	identity_db_unref(dbb);
}

static void test_event_endpoints(void)
{
	char err[1024];
	struct identity_db *db = identity_db_load_string(good, strlen(good), "ids.yaml", &opts_fixed,
	                                                  err, sizeof(err));
	if (!db)
		return;
	struct flow_event *ev = flow_event_new();
	ev->time_ns = 1700000000000000000ull;
	ev->has_ip = true;
	strcpy(ev->ip_src, "198.18.0.10");
	strcpy(ev->ip_dst, "203.0.113.9");
	ev->ip_version = FE_IPV4;
	ev->type = FE_TYPE_L3_L4;
	CHECK("fill event", identity_fill_event(db, ev) == 0);
	identity_db_unref(db);   /* the event must not depend on the db any more */
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf out = { 0 };
	fe_record_to_json(&rec, &out);
	const char *src = strstr(out.data ? out.data : "", "\"source\":{");
	char got[700] = "";
	if (src) {
		const char *end = strstr(src, ",\"Type\"");
		size_t n = end ? (size_t)(end - src) : 0;
		if (n >= sizeof(got))
			n = sizeof(got) - 1;
		memcpy(got, src, n);
		got[n] = '\0';
	}
	CHECK_STR("Hubble endpoints in JSON", got,
	          "\"source\":{\"identity\":1000,\"namespace\":\"production\",\"labels\":["
	          "\"k8s:app=api-gateway\",\"k8s:io.kubernetes.pod.namespace=production\","
	          "\"k8s:tier=edge\"],\"pod_name\":\"api-gateway-7d9c8b6f4-x2k9p\","
	          "\"workloads\":[{\"name\":\"api-gateway\",\"kind\":\"Deployment\"}]},"
	          "\"destination\":{\"identity\":32417427,\"labels\":[\"cidr:203.0.113.0/24\","
	          "\"k8s:zone=partner\",\"reserved:world\"]}");
	fe_buf_free(&out);
	flow_event_free(ev);
}

static void test_detect_host(void)
{
	char err[512];
	struct identity_opts o = { .detect_host = true };
	struct identity_db *db = identity_db_default(&o, err, sizeof(err));
	CHECK("default db", db != NULL);
	if (!db)
		return;
	/* every network namespace has lo with 127.0.0.1 once it is up; the
	 * test runner's namespace has it */
	CHECK_U64("loopback is host", id_of(db, "127.0.0.1"), 1);
	CHECK_U64("elsewhere is world", id_of(db, "192.0.2.1"), 2);
	CHECK_U64("only host and world", identity_db_count(db), 2);
	identity_db_unref(db);

	static const char nodetect[] = "host: {detect: false}\n";
	db = identity_db_load_string(nodetect, strlen(nodetect), "x", &o, err, sizeof(err));
	CHECK("detect: false loads", db != NULL);
	if (db) {
		CHECK_U64("detect false: loopback is world", id_of(db, "127.0.0.1"), 2);
		identity_db_unref(db);
	}
}

/* Each bad file: exactly the messages a user sees. */
static void expect_err(const char *name, const char *text, const char *want)
{
	char err[2048];
	struct identity_db *db = identity_db_load_string(text, strlen(text), "ids.yaml", &opts_fixed,
	                                                  err, sizeof(err));
	CHECK(name, db == NULL);
	if (db) {
		identity_db_unref(db);
		return;
	}
	char n2[200];
	snprintf(n2, sizeof(n2), "%s: message", name);
	CHECK_STR(n2, err, want);
}

static void test_errors(void)
{
	expect_err("unknown top key", "endpoint: []\n",
	           "ids.yaml:1:1: identities file: unknown key \"endpoint\" (expected one of: "
	           "endpoints, networks, host)");
	expect_err("unknown entry key",
	           "endpoints:\n  - addresses: [198.18.0.1]\n    namespace: a\n    podname: x\n",
	           "ids.yaml:4:5: endpoints[0]: unknown key \"podname\" (expected one of: addresses, "
	           "namespace, pod, workload, workloads, labels, identity)");
	expect_err("bad address",
	           "endpoints:\n  - {addresses: [198.18.0.300], namespace: a}\n",
	           "ids.yaml:2:18: addresses: \"198.18.0.300\" is not an IP address or CIDR");
	expect_err("host bits",
	           "networks:\n  - cidr: 198.18.1.1/16\n",
	           "ids.yaml:2:11: cidr: \"198.18.1.1/16\" has bits set past the prefix length "
	           "(did you mean 198.18.0.0/16?)");
	expect_err("prefix length",
	           "networks:\n  - cidr: 198.18.0.0/33\n",
	           "ids.yaml:2:11: cidr: \"198.18.0.0/33\": bad prefix length (0..32)");
	expect_err("duplicate prefix",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: a}\n"
	           "  - {addresses: [198.18.0.2, 198.18.0.1/32], namespace: b}\n",
	           "ids.yaml:3:30: 198.18.0.1/32 is already assigned at line 2");
	expect_err("identity out of range",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 5}\n",
	           "ids.yaml:2:55: identity: 5 is out of range (256..16777215)");
	expect_err("identity not a number",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: abc}\n",
	           "ids.yaml:2:55: identity: \"abc\" is not an integer");
	expect_err("conflicting identities for one label set",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 300}\n"
	           "  - {addresses: [198.18.0.2], namespace: a, identity: 301}\n",
	           "ids.yaml:3:55: identity 301 differs from identity 300 given at line 2 for the "
	           "same labels");
	expect_err("identity taken by other labels",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 300}\n"
	           "  - {addresses: [198.18.0.2], namespace: b, identity: 300}\n",
	           "ids.yaml:3:55: identity 300 is already used by entries with other labels");
	expect_err("bad label key",
	           "endpoints:\n  - addresses: [198.18.0.1]\n    labels: {\"-app\": x}\n",
	           "ids.yaml:3:14: labels: label key \"k8s:-app\": the name must be 1-63 characters "
	           "[A-Za-z0-9-_.], starting and ending with a letter or digit");
	expect_err("reserved label source",
	           "endpoints:\n  - addresses: [198.18.0.1]\n    labels: [\"reserved:host\"]\n",
	           "ids.yaml:3:14: labels: labels with source \"reserved\" are assigned by flowd, not "
	           "by the identities file");
	expect_err("no labels",
	           "endpoints:\n  - addresses: [198.18.0.1]\n    pod: x\n",
	           "ids.yaml:2:5: endpoints[0]: an endpoint needs \"labels\" or a \"namespace\" "
	           "(its identity is its label set)");
	expect_err("namespace not a DNS label",
	           "endpoints:\n  - {addresses: [198.18.0.1], namespace: Prod}\n",
	           "ids.yaml:2:42: endpoints[0]: namespace \"Prod\" must be a DNS label (1-63 lower "
	           "case letters, digits and '-')");
	expect_err("wrong type",
	           "endpoints:\n  addresses: [1.2.3.4]\n",
	           "ids.yaml:2:3: endpoints: expected a list, got a mapping");
	expect_err("missing addresses", "endpoints:\n  - {namespace: a}\n",
	           "ids.yaml:2:5: endpoints[0]: \"addresses\" is required");
	expect_err("several errors at once",
	           "endpoints:\n  - {addresses: [1.2.3], namespace: a}\n"
	           "networks:\n  - {cidr: 10.0.0.0/8, color: red}\n",
	           "ids.yaml:2:18: addresses: \"1.2.3\" is not an IP address or CIDR\n"
	           "ids.yaml:4:24: networks[0]: unknown key \"color\" (expected one of: cidr, labels, "
	           "identity)");
	expect_err("YAML syntax", "endpoints:\n  - {addresses: [1.2.3.4\n",
	           "ids.yaml:3:1: did not find expected ',' or ']' while parsing a flow sequence");
	expect_err("empty file", "", "ids.yaml:1:1: empty document");
	expect_err("two documents", "endpoints: []\n---\nnetworks: []\n",
	           "ids.yaml:2:1: more than one YAML document in the file");
	expect_err("duplicate key", "endpoints: []\nendpoints: []\n",
	           "ids.yaml:2:1: identities file: duplicate key \"endpoints\"");
	expect_err("namespace label contradiction",
	           "endpoints:\n  - addresses: [198.18.0.1]\n    namespace: a\n"
	           "    labels: {io.kubernetes.pod.namespace: b}\n",
	           "ids.yaml:4:13: endpoints[0]: label k8s:io.kubernetes.pod.namespace=b contradicts "
	           "namespace \"a\"");
}

static void test_reload(void)
{
	char path[] = "/tmp/flowd-test-ids-XXXXXX";
	int fd = mkstemp(path);
	CHECK("temp file", fd >= 0);
	if (fd < 0)
		return;
	const char v1[] = "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 300}\n";
	const char bad[] = "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 3}\n";
	const char v2[] = "endpoints:\n  - {addresses: [198.18.0.1], namespace: a, identity: 400}\n";
	char err[1024];
	FILE *f = fopen(path, "w");
	fputs(v1, f);
	fclose(f);
	struct identity_db *db = identity_db_load_file(path, &opts_fixed, err, sizeof(err));
	struct identity_store *s = identity_store_new(db);
	struct identity_db *cur = identity_store_get(s);
	CHECK_U64("v1 loaded", id_of(cur, "198.18.0.1"), 300);

	f = fopen(path, "w");
	fputs(bad, f);
	fclose(f);
	CHECK("invalid reload refused", identity_store_reload(s, path, &opts_fixed, err, sizeof(err)) == -1);
	char want[300];
	snprintf(want, sizeof(want), "%s:2:55: identity: 3 is out of range (256..16777215)", path);
	CHECK_STR("invalid reload message", err, want);
	struct identity_db *after = identity_store_get(s);
	CHECK("old db kept", after == cur);
	CHECK_U64("old identity still served", id_of(after, "198.18.0.1"), 300);
	identity_db_unref(after);

	f = fopen(path, "w");
	fputs(v2, f);
	fclose(f);
	CHECK("valid reload", identity_store_reload(s, path, &opts_fixed, err, sizeof(err)) == 0);
	struct identity_db *newdb = identity_store_get(s);
	CHECK_U64("new identity served", id_of(newdb, "198.18.0.1"), 400);
	CHECK_U64("a holder of the old db still sees it", id_of(cur, "198.18.0.1"), 300);
	identity_db_unref(newdb);
	identity_db_unref(cur);
	identity_store_free(s);

	CHECK("missing file", identity_db_load_file("/nonexistent/ids.yaml", NULL, err, sizeof(err)) == NULL);
	CHECK_STR("missing file message", err, "/nonexistent/ids.yaml: No such file or directory");
	unlink(path);
}

static void test_labels_find(void)
{
	const char *l[] = { "k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod", "reserved:host" };
	const char *v = NULL;
	CHECK("find with source", identity_labels_find(l, 3, "k8s", "app", &v) && !strcmp(v, "web"));
	CHECK("find any source", identity_labels_find(l, 3, "any", "app", NULL));
	CHECK("find no source", identity_labels_find(l, 3, NULL, "app", NULL));
	CHECK("wrong source", !identity_labels_find(l, 3, "container", "app", NULL));
	CHECK("key prefix is not a match", !identity_labels_find(l, 3, "k8s", "ap", NULL));
	CHECK("valueless label", identity_labels_find(l, 3, "reserved", "host", &v) && !strcmp(v, ""));
}

/* Lookups must stay cheap with many entries: 20k /32s and 2k /24s. */
static void test_many(void)
{
	size_t cap = 4u << 20, used = 0;
	char *t = malloc(cap);
	used += (size_t)snprintf(t + used, cap - used, "endpoints:\n");
	for (int i = 0; i < 20000; i++)
		used += (size_t)snprintf(t + used, cap - used,
		                         "  - {addresses: [10.%d.%d.%d], namespace: ns%d, labels: {app: a%d}}\n",
		                         i >> 16 & 255, i >> 8 & 255, i & 255, i % 50, i % 400);
	used += (size_t)snprintf(t + used, cap - used, "networks:\n");
	for (int i = 0; i < 2000; i++)
		used += (size_t)snprintf(t + used, cap - used, "  - {cidr: 172.%d.%d.0/24}\n", 16 + (i >> 8), i & 255);
	char err[1024];
	struct identity_db *db = identity_db_load_string(t, used, "big", &opts_fixed, err, sizeof(err));
	free(t);
	CHECK("20k endpoints + 2k networks load", db != NULL);
	if (!db) {
		printf("  %s\n", err);
		return;
	}
	/* 50 namespaces x 400 apps, but (i%50, i%400) pairs repeat every 400 */
	CHECK_U64("identities: host, world, 400 label sets, 2000 CIDRs", identity_db_count(db), 2402);
	CHECK("entry 12345", identity_lookup_str(db, "10.0.48.57")->identity->id >= 256);
	CHECK_STR("entry 12345 namespace", identity_lookup_str(db, "10.0.48.57")->namespace_, "ns45");
	CHECK_U64("entries 5 and 405 share the label set", id_of(db, "10.0.0.5"), id_of(db, "10.0.1.149"));
	CHECK("a /24", id_of(db, "172.17.3.9") >= 16777216);
	identity_db_unref(db);
}

/* tests/netns/test_identity_host.sh: host detection in a namespace.
 *   test_identity lookup FILE|- IP...   (- : no file) */
static int helper_lookup(int argc, char **argv)
{
	char err[2048];
	struct identity_opts o = { .detect_host = true };
	struct identity_db *db = strcmp(argv[2], "-")
		? identity_db_load_file(argv[2], &o, err, sizeof(err))
		: identity_db_default(&o, err, sizeof(err));
	if (!db) {
		printf("error: %s\n", err);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		const struct identity_endpoint *e = identity_lookup_str(db, argv[i]);
		if (!e) {
			printf("%s not an address\n", argv[i]);
			continue;
		}
		printf("%s %u", argv[i], e->identity->id);
		for (size_t k = 0; k < e->identity->n_labels; k++)
			printf(" %s", e->identity->labels[k]);
		printf("\n");
	}
	identity_db_unref(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "lookup"))
		return helper_lookup(argc, argv);
	test_lookups();
	test_stable_numbers();
	test_event_endpoints();
	test_detect_host();
	test_errors();
	test_reload();
	test_labels_find();
	test_many();
	return CHECK_DONE();
}
