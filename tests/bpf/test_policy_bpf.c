/* The kernel side of policies: lib/policy_bpf.c compiles a policy into the
 * maps of include/policy_maps.h, include/policy.bpf.h looks packets up in
 * them. Crafted frames go through the programs of policy_prog.bpf.c with
 * BPF_PROG_TEST_RUN; the verdicts are compared with lib/policy.c's reference
 * evaluation, also for thousands of random packets against a random policy,
 * and policy swaps are checked for atomicity under concurrent lookups.
 *
 *   test_policy_bpf                                 the tests
 *   test_policy_bpf attach IFNAME POLICY IDENTITIES
 *       attach pol_flow with XDP to IFNAME, apply the files, reload them on
 *       SIGHUP (an invalid file keeps the running policy), print the
 *       counters and detach on SIGTERM: tests/netns/test_policy_enforce.sh */
#include "../unit/check.h"
#include "../unit/pkt_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"
#include "tests/bpf/policy_prog.skel.h"

static struct policy_prog_bpf *skel;
static int last_fd = -1;   /* `last_result` of the object under test; -1: skel's */
static struct policy_bpf *pb;
static struct policy_bpf_maps maps;

/* --- frames ----------------------------------------------------------------- */

struct pkt {
	uint8_t family, proto;
	char src[64], dst[64];
	uint16_t sport, dport;
	uint16_t tcp_flags;       /* TCP; 0 means SYN */
	uint8_t icmp_type;        /* ICMP; 0 means echo request */
};

static size_t build(const struct pkt *k, uint8_t *out)
{
	struct pb p;
	pb_init(&p);
	pb_eth(&p, k->family == 4 ? 0x0800 : 0x86DD);
	if (k->family == 4)
		pb_ipv4(&p, k->proto, 5, 1, 0);
	else
		pb_ipv6(&p, k->proto);
	size_t ip = p.ip_off;
	if (k->family == 4) {
		inet_pton(AF_INET, k->src, p.b + ip + 12);
		inet_pton(AF_INET, k->dst, p.b + ip + 16);
	} else {
		inet_pton(AF_INET6, k->src, p.b + ip + 8);
		inet_pton(AF_INET6, k->dst, p.b + ip + 24);
	}
	switch (k->proto) {
	case 6:
		pb_tcp(&p, k->sport, k->dport, 1, 0, k->tcp_flags ? k->tcp_flags : 0x002, 5, 1000);
		break;
	case 17:
		pb_udp(&p, k->sport, k->dport, 8);
		pb_payload(&p, 8);
		break;
	case 132:
		pb_sctp(&p, k->sport, k->dport);
		break;
	default:
		pb_icmp(&p, k->icmp_type ? k->icmp_type : k->family == 4 ? 8 : 128, 0, 7, 1);
		break;
	}
	pb_finish(&p, 0);
	memcpy(out, p.b, p.len);
	return p.len;
}

static int run_prog(int fd, const struct pkt *k, struct policy_result *res)
{
	uint8_t frame[256];
	size_t len = build(k, frame);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len, .repeat = 1);
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	uint32_t zero = 0;
	if (res)
		bpf_map_lookup_elem(last_fd >= 0 ? last_fd : bpf_map__fd(skel->maps.last_result), &zero, res);
	return (int)o.retval;
}

static struct pkt P(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t proto)
{
	struct pkt k;
	memset(&k, 0, sizeof(k));
	k.family = strchr(src, ':') ? 6 : 4;
	k.proto = proto ? proto : (k.family == 4 ? 1 : 58);
	snprintf(k.src, sizeof(k.src), "%s", src);
	snprintf(k.dst, sizeof(k.dst), "%s", dst);
	k.sport = sp;
	k.dport = dp;
	return k;
}

/* --- policies ---------------------------------------------------------------- */

static const char ids_text[] =
	"endpoints:\n"
	"  - {addresses: [198.18.1.10, \"2001:db8::10\"], namespace: shop, pod: web-0, labels: {app: web}}\n"
	"  - {addresses: [198.19.7.5, \"2001:db8::20\"], namespace: shop, pod: frontend-0, labels: {app: frontend}}\n"
	"  - {addresses: [198.18.2.2], namespace: shop, pod: kafka-0, labels: {app: kafka}}\n"
	"networks:\n"
	"  - {cidr: 203.0.113.0/24}\n";
static const char *const host_addrs[] = { "198.19.0.1" };
static const struct identity_opts id_opts = { .detect_host = false, .host_addrs = host_addrs,
	                                      .n_host_addrs = 1 };

static char *read_example(void)
{
	/* the README's example, also tests/unit/test_policy.c's */
	FILE *f = fopen("README.md", "r");
	if (!f)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *a = strstr(buf, "```yaml\nmode: enforce");
	char *b = a ? strstr(a + 8, "```") : NULL;
	if (!b)
		return NULL;
	*b = '\0';
	return a + 8;
}

static struct policy *load_policy(const char *text)
{
	char err[4096];
	struct policy *p = policy_load_string(text, strlen(text), "policy.yaml", err, sizeof(err));
	if (!p)
		printf("  policy error: %s\n", err);
	return p;
}

static int apply(struct policy *p, struct identity_db *ids, const struct policy_compile_opts *o)
{
	char err[512];
	struct policy_compiled *c = policy_compile(p, ids, o, err, sizeof(err));
	if (!c) {
		printf("  compile error: %s\n", err);
		return -1;
	}
	int rc = policy_bpf_apply(pb, c, err, sizeof(err));
	if (rc)
		printf("  apply error: %s\n", err);
	policy_compiled_free(c);
	return rc;
}

static const char *fmt_res(const struct policy *p, const struct policy_result *r, char *buf, size_t n)
{
	static const char *const verdicts[] = { "NONE", "FORWARDED", "DROPPED", "?", "AUDIT" };
	snprintf(buf, n, "%s:%s:%u:%u%s%s", verdicts[r->verdict < 5 ? r->verdict : 3],
	         r->rule_id == POLICY_RULE_NONE ? "-" : (p ? policy_rule_name(p, r->rule_id) : "?"),
	         r->match_type, r->drop_reason,
	         r->direction == POLICY_DIR_EGRESS ? ":egress" : r->direction == POLICY_DIR_INGRESS ? ":ingress" : "",
	         r->flags & POLICY_RES_REPLY ? ":reply" : "");
	return buf;
}

static void expect_pkt(const char *name, int prog_fd, const struct policy *p, struct pkt k,
                       int want_ret, const char *want)
{
	struct policy_result r;
	char buf[200], n2[200];
	int ret = run_prog(prog_fd, &k, &r);
	snprintf(n2, sizeof(n2), "%s: action", name);
	CHECK_U64(n2, (uint64_t)ret, (uint64_t)want_ret);
	snprintf(n2, sizeof(n2), "%s: result", name);
	CHECK_STR(n2, fmt_res(p, &r, buf, sizeof(buf)), want);
}

static uint64_t counter(int idx)
{
	uint64_t c[POLICY_CNT_MAX];
	return policy_bpf_counters(pb, c) ? (uint64_t)-1 : c[idx];
}

/* --- the example policy through the kernel ------------------------------------ */

static void test_example(struct identity_db *ids)
{
	int lookup = bpf_program__fd(skel->progs.pol_lookup);
	struct policy_result r;
	struct pkt syn = P("198.19.7.5", 41000, "198.18.1.10", 80, 6);
	CHECK_U64("no policy yet: pass", (uint64_t)run_prog(lookup, &syn, &r), XDP_PASS);
	CHECK_U64("no policy yet: verdict NONE", r.verdict, POLICY_VERDICT_NONE);

	const char *text = read_example();
	CHECK("README example found", text != NULL);
	struct policy *p = text ? load_policy(text) : NULL;
	if (!p)
		return;
	struct policy_fqdn_ip fq[2] = { { .family = 4, .name = "api.example.com" },
		                        { .family = 4, .name = "img.cdn.example.net" } };
	inet_pton(AF_INET, "192.0.2.10", fq[0].addr);
	inet_pton(AF_INET, "192.0.2.11", fq[1].addr);
	struct policy_compile_opts o = { .fqdn_ips = fq, .n_fqdn_ips = 2 };
	CHECK("example compiles and applies", apply(p, ids, &o) == 0);

	expect_pkt("frontend -> web:80", lookup, p, syn, XDP_PASS, "FORWARDED:web-from-frontend:2:0:ingress");
	expect_pkt("frontend v6 -> web v6:80", lookup, p, P("2001:db8::20", 41000, "2001:db8::10", 80, 6),
	           XDP_PASS, "FORWARDED:web-from-frontend:2:0:ingress");
	expect_pkt("office -> web:8050", lookup, p, P("198.18.5.5", 40000, "198.18.1.10", 8050, 6),
	           XDP_PASS, "FORWARDED:web-from-office:2:0:ingress");
	expect_pkt("excepted office address -> web:80", lookup, p, P("198.18.99.7", 40000, "198.18.1.10", 80, 6),
	           XDP_DROP, "DROPPED:-:0:133");
	expect_pkt("office -> web:8101", lookup, p, P("198.18.5.5", 40000, "198.18.1.10", 8101, 6),
	           XDP_DROP, "DROPPED:-:0:133");
	expect_pkt("web -> telnet (deny rule)", lookup, p, P("198.18.1.10", 40000, "192.0.2.1", 23, 6),
	           XDP_DROP, "DROPPED:no-telnet:3:181:egress");
	expect_pkt("web -> telnet over SCTP", lookup, p, P("198.18.1.10", 40000, "192.0.2.1", 23, 132),
	           XDP_DROP, "DROPPED:no-telnet:3:181:egress");
	expect_pkt("world -> world telnet", lookup, p, P("203.0.113.1", 40000, "203.0.113.2", 23, 6),
	           XDP_DROP, "DROPPED:-:0:133");
	expect_pkt("web -> DNS (L7 rules: allowed at L3/L4)", lookup, p, P("198.18.1.10", 50000, "192.0.2.53", 53, 17),
	           XDP_PASS, "FORWARDED:dns:2:0:egress");
	expect_pkt("web -> host DNS over TCP", lookup, p, P("198.18.1.10", 50000, "198.19.0.1", 53, 6),
	           XDP_PASS, "FORWARDED:dns:2:0:egress");
	expect_pkt("web -> api.example.com:443", lookup, p, P("198.18.1.10", 50000, "192.0.2.10", 443, 6),
	           XDP_PASS, "FORWARDED:api-egress:2:0:egress");
	expect_pkt("web -> img.cdn.example.net:443", lookup, p, P("198.18.1.10", 50000, "192.0.2.11", 443, 6),
	           XDP_PASS, "FORWARDED:api-egress:2:0:egress");
	expect_pkt("web -> unnamed address:443", lookup, p, P("198.18.1.10", 50000, "192.0.2.12", 443, 6),
	           XDP_DROP, "DROPPED:-:0:133");
	expect_pkt("web -> kafka:9092", lookup, p, P("198.18.1.10", 50000, "198.18.2.2", 9092, 6),
	           XDP_PASS, "FORWARDED:kafka-producer:2:0:egress");
	expect_pkt("host -> web ICMP echo", lookup, p, P("198.19.0.1", 0, "198.18.1.10", 0, 0),
	           XDP_PASS, "FORWARDED:ping-from-host:1:0:ingress");
	expect_pkt("world -> web ICMP echo", lookup, p, P("192.0.2.1", 0, "198.18.1.10", 0, 0),
	           XDP_DROP, "DROPPED:-:0:133");

	struct pkt ns = P("2001:db8:5::1", 0, "2001:db8::10", 0, 0);
	ns.icmp_type = 135;
	expect_pkt("IPv6 neighbor solicitation passes a default deny", lookup, p, ns, XDP_PASS, "FORWARDED:-:0:0");
	ns.icmp_type = 128;
	expect_pkt("IPv6 echo request from world: default deny", lookup, p, ns, XDP_DROP, "DROPPED:-:0:133");

	/* TCP picked up mid-connection: a reply of an allowed connection passes */
	struct pkt ack = P("198.18.1.10", 80, "198.19.7.5", 41000, 6);
	ack.tcp_flags = 0x010;
	expect_pkt("mid-connection ACK of an allowed connection", lookup, p, ack, XDP_PASS,
	           "FORWARDED:web-from-frontend:2:0:ingress:reply");
	struct pkt synack = ack;
	synack.tcp_flags = 0x012;
	expect_pkt("SYN-ACK of an allowed connection", lookup, p, synack, XDP_PASS,
	           "FORWARDED:web-from-frontend:2:0:ingress:reply");
	struct pkt revsyn = ack;
	revsyn.tcp_flags = 0x002;
	expect_pkt("a bare SYN is always an opener", lookup, p, revsyn, XDP_DROP, "DROPPED:-:0:133");
	expect_pkt("UDP is never guessed to be a reply", lookup, p, P("192.0.2.53", 53, "198.18.1.10", 50000, 17),
	           XDP_DROP, "DROPPED:-:0:133");

	/* the per-flow pattern: replies take the forward flow's result */
	int flow = bpf_program__fd(skel->progs.pol_flow);
	expect_pkt("flow: SYN opens", flow, p, P("198.19.7.5", 41001, "198.18.1.10", 80, 6), XDP_PASS,
	           "FORWARDED:web-from-frontend:2:0:ingress");
	struct pkt sa = P("198.18.1.10", 80, "198.19.7.5", 41001, 6);
	sa.tcp_flags = 0x012;
	expect_pkt("flow: SYN-ACK is its reply", flow, p, sa, XDP_PASS, "FORWARDED:web-from-frontend:2:0:ingress:reply");
	expect_pkt("flow: UDP query", flow, p, P("198.18.1.10", 50001, "192.0.2.53", 53, 17), XDP_PASS,
	           "FORWARDED:dns:2:0:egress");
	expect_pkt("flow: UDP answer is its reply", flow, p, P("192.0.2.53", 53, "198.18.1.10", 50001, 17), XDP_PASS,
	           "FORWARDED:dns:2:0:egress:reply");
	expect_pkt("flow: denied opener", flow, p, P("198.18.99.7", 40001, "198.18.1.10", 80, 6), XDP_DROP,
	           "DROPPED:-:0:133");
	struct pkt dsa = P("198.18.1.10", 80, "198.18.99.7", 40001, 6);
	dsa.tcp_flags = 0x012;
	expect_pkt("flow: its reply stays dropped", flow, p, dsa, XDP_DROP, "DROPPED:-:0:133:reply");
	expect_pkt("flow: ping from host", flow, p, P("198.19.0.1", 0, "198.18.1.10", 0, 0), XDP_PASS,
	           "FORWARDED:ping-from-host:1:0:ingress");

	/* TC: same lookups, TC verdicts */
	int tc = bpf_program__fd(skel->progs.pol_tc);
	expect_pkt("tc: allowed", tc, p, syn, TC_ACT_OK, "FORWARDED:web-from-frontend:2:0:ingress");
	expect_pkt("tc: denied by rule", tc, p, P("198.18.1.10", 40000, "192.0.2.1", 23, 6), TC_ACT_SHOT,
	           "DROPPED:no-telnet:3:181:egress");
	expect_pkt("tc: default deny v6", tc, p, P("2001:db8:5::1", 40000, "2001:db8::10", 80, 6), TC_ACT_SHOT,
	           "DROPPED:-:0:133");

	/* per-reason drop counters count packets */
	uint64_t d181 = counter(POLICY_CNT_DROP_DENY), d133 = counter(POLICY_CNT_DROP_DENIED);
	uint64_t fw = counter(POLICY_CNT_FORWARDED);
	struct pkt telnet = P("198.18.1.10", 40000, "192.0.2.1", 23, 6);
	struct pkt other = P("192.0.2.1", 0, "198.18.1.10", 0, 0);
	for (int i = 0; i < 5; i++)
		run_prog(lookup, &telnet, NULL);
	for (int i = 0; i < 3; i++)
		run_prog(lookup, &other, NULL);
	for (int i = 0; i < 2; i++)
		run_prog(lookup, &syn, NULL);
	CHECK_U64("drop counter, reason 181", counter(POLICY_CNT_DROP_DENY) - d181, 5);
	CHECK_U64("drop counter, reason 133", counter(POLICY_CNT_DROP_DENIED) - d133, 3);
	CHECK_U64("forwarded counter", counter(POLICY_CNT_FORWARDED) - fw, 2);

	/* audit: the same policy lets everything through, marked AUDIT */
	char *audit = strdup(text);
	memcpy(strstr(audit, "mode: enforce"), "mode: audit  ", 13);
	struct policy *pa = load_policy(audit);
	free(audit);
	CHECK("audit policy applies", pa && apply(pa, ids, &o) == 0);
	if (pa) {
		uint64_t a181 = counter(POLICY_CNT_AUDIT_DENY), a133 = counter(POLICY_CNT_AUDIT_DENIED);
		d181 = counter(POLICY_CNT_DROP_DENY);
		expect_pkt("audit: deny rule passes", lookup, pa, telnet, XDP_PASS, "AUDIT:no-telnet:3:181:egress");
		expect_pkt("audit: default deny passes", lookup, pa, P("198.18.99.7", 40000, "198.18.1.10", 80, 6),
		           XDP_PASS, "AUDIT:-:0:133");
		expect_pkt("audit: allowed stays FORWARDED", lookup, pa, syn, XDP_PASS,
		           "FORWARDED:web-from-frontend:2:0:ingress");
		expect_pkt("audit: tc passes", tc, pa, telnet, TC_ACT_OK, "AUDIT:no-telnet:3:181:egress");
		CHECK_U64("audit counter, reason 181", counter(POLICY_CNT_AUDIT_DENY) - a181, 2);
		CHECK_U64("audit counter, reason 133", counter(POLICY_CNT_AUDIT_DENIED) - a133, 1);
		CHECK_U64("no drops in audit mode", counter(POLICY_CNT_DROP_DENY) - d181, 0);
		r.revision = 0;
		run_prog(lookup, &syn, &r);
		CHECK_U64("revision of the audit policy", r.revision, policy_revision(pa));
		policy_unref(pa);
	}

	/* default allow, no rules */
	static const char allow_all[] = "mode: enforce\ndefaultAction: allow\n";
	struct policy *pz = load_policy(allow_all);
	CHECK("allow-all applies", pz && apply(pz, ids, NULL) == 0);
	expect_pkt("default allow", lookup, pz, telnet, XDP_PASS, "FORWARDED:-:0:0");
	policy_unref(pz);

	/* a policy the maps cannot hold is refused before anything changes */
	CHECK("example back", apply(p, ids, &o) == 0);
	char err[300];
	struct policy_compile_opts small = { .max_rule_entries = 3 };
	struct policy_compiled *c = policy_compile(p, ids, &small, err, sizeof(err));
	CHECK("too big for the maps: refused", c == NULL);
	CHECK_STR("too big: message", err,
	          "the policy needs more than 3 kernel rule entries (rules x peers x port ranges); "
	          "simplify it or raise the limit");
	policy_compiled_free(c);
	expect_pkt("old policy still in force", lookup, p, telnet, XDP_DROP, "DROPPED:no-telnet:3:181:egress");

	/* a second object (as flowd's TC object next to its XDP one) shares
	 * the maps: it sees the same policy and the same counters */
	struct policy_prog_bpf *two = policy_prog_bpf__open();
	CHECK("second object: share maps", two && policy_bpf_reuse_maps(two->obj, &maps, err, sizeof(err)) == 0);
	CHECK("second object: loads", two && policy_prog_bpf__load(two) == 0);
	if (two) {
		d181 = counter(POLICY_CNT_DROP_DENY);
		last_fd = bpf_map__fd(two->maps.last_result);
		expect_pkt("second object: same policy", bpf_program__fd(two->progs.pol_tc), p,
		           P("198.19.7.5", 41000, "198.18.1.10", 8080, 6), TC_ACT_SHOT, "DROPPED:-:0:133");
		expect_pkt("second object: same policy (deny rule)", bpf_program__fd(two->progs.pol_tc), p, telnet,
		           TC_ACT_SHOT, "DROPPED:no-telnet:3:181:egress");
		last_fd = -1;
		CHECK_U64("second object: same counters", counter(POLICY_CNT_DROP_DENY) - d181, 1);
		policy_prog_bpf__destroy(two);
	}

	CHECK("clear", policy_bpf_clear(pb) == 0);
	expect_pkt("cleared: no verdict", lookup, p, telnet, XDP_PASS, "NONE:-:0:0");
	policy_unref(p);
}

/* --- random policies: kernel == compiled == reference ------------------------- */

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Prefixes that nest: 10.R.S.T/L built from a few values so rules overlap. */
static void rand_v4(char *out, size_t n, int with_len)
{
	static const int lens[] = { 8, 12, 16, 20, 24, 28, 32 };
	int l = lens[rnd(7)];
	uint32_t a = 0x0a000000u | (rnd(4) << 16) | (rnd(4) << 8) | rnd(4) << 6 | rnd(3);
	if (l < 32)
		a &= ~((1u << (32 - l)) - 1);
	if (with_len)
		snprintf(out, n, "%u.%u.%u.%u/%d", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, l);
	else
		snprintf(out, n, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

static void rand_v6(char *out, size_t n, int with_len)
{
	static const int lens[] = { 32, 48, 56, 64, 96, 128 };
	int l = lens[rnd(6)];
	unsigned g2 = rnd(3), g3 = rnd(3), g4 = rnd(2), g8 = rnd(4);
	if (l <= 32) g2 = 0;
	if (l <= 48) g3 = 0;
	if (l <= 56) g4 = 0;
	if (l < 128) g8 = 0;
	if (with_len)
		snprintf(out, n, "2001:db8:%x:%x::%x/%d", g2, g3 << 8 | g4, g8, l);
	else
		snprintf(out, n, "2001:db8:%x:%x::%x", g2, g3 << 8 | g4, g8);
}

static char *random_policy(int n_rules)
{
	size_t cap = 64 + (size_t)n_rules * 400, used = 0;
	char *t = malloc(cap);
	static const char *const apps[] = { "a", "b", "c", "d" };
	used += (size_t)snprintf(t + used, cap - used, "mode: %s\ndefaultAction: %s\nrules:\n",
	                         rnd(2) ? "enforce" : "audit", rnd(2) ? "deny" : "allow");
	for (int i = 0; i < n_rules; i++) {
		int egress = (int)rnd(2);
		used += (size_t)snprintf(t + used, cap - used, "  - name: r%d\n    action: %s\n    direction: %s\n",
		                         i, rnd(10) < 3 ? "deny" : "allow", egress ? "egress" : "ingress");
		switch (rnd(5)) {
		case 0: break;
		case 1: used += (size_t)snprintf(t + used, cap - used, "    endpointSelector: {}\n"); break;
		case 2: used += (size_t)snprintf(t + used, cap - used, "    endpointSelector: {matchLabels: {\"reserved:world\": \"\"}}\n"); break;
		default:
			used += (size_t)snprintf(t + used, cap - used, "    endpointSelector: {matchLabels: {app: %s}}\n",
			                         apps[rnd(4)]);
		}
		const char *pfx = egress ? "to" : "from";
		char c1[64], c2[64];
		switch (rnd(7)) {
		case 0: break;   /* any peer */
		case 1:
		case 2:
			rnd(3) ? rand_v4(c1, sizeof(c1), 1) : rand_v6(c1, sizeof(c1), 1);
			used += (size_t)snprintf(t + used, cap - used, "    %sCIDR: [\"%s\"]\n", pfx, c1);
			break;
		case 3: {
			/* a CIDR with an except inside it */
			rand_v4(c1, sizeof(c1), 0);
			uint32_t a;
			inet_pton(AF_INET, c1, &a);
			a = ntohl(a) & 0xffff0000u;
			uint32_t x = a | (rnd(4) << 8);
			snprintf(c1, sizeof(c1), "%u.%u.0.0/16", a >> 24, a >> 16 & 255);
			snprintf(c2, sizeof(c2), "%u.%u.%u.0/24", x >> 24, x >> 16 & 255, x >> 8 & 255);
			used += (size_t)snprintf(t + used, cap - used, "    %sCIDRSet: [{cidr: %s, except: [%s]}]\n",
			                         pfx, c1, c2);
			break;
		}
		case 4:
			used += (size_t)snprintf(t + used, cap - used, "    %sEndpoints: [{matchLabels: {app: %s}}]\n",
			                         pfx, apps[rnd(4)]);
			break;
		case 5:
			used += (size_t)snprintf(t + used, cap - used, "    %sEntities: [%s]\n", pfx,
			                         rnd(3) == 0 ? "host" : rnd(2) ? "world" : "all");
			break;
		default:
			used += (size_t)snprintf(t + used, cap - used, "    %sEndpoints: [{}]\n", pfx);
		}
		switch (rnd(6)) {
		case 0: break;   /* no toPorts */
		case 1:
			used += (size_t)snprintf(t + used, cap - used, "    toPorts: [{ports: [{protocol: %s}]}]\n",
			                         rnd(2) ? "TCP" : "UDP");
			break;
		case 2: {
			uint32_t lo = 1 + rnd(2000), hi = lo + rnd(3000);
			used += (size_t)snprintf(t + used, cap - used,
			                         "    toPorts: [{ports: [{port: \"%u\", endPort: %u, protocol: %s}]}]\n",
			                         lo, hi, rnd(2) ? "ANY" : "TCP");
			break;
		}
		default:
			used += (size_t)snprintf(t + used, cap - used,
			                         "    toPorts: [{ports: [{port: \"%u\"}, {port: \"%u\", protocol: UDP}]}]\n",
			                         1 + rnd(3000), 1 + rnd(3000));
		}
	}
	return t;
}

static char *random_ids(void)
{
	size_t cap = 8192, used = 0;
	char *t = malloc(cap);
	static const char *const apps[] = { "a", "b", "c", "d" };
	used += (size_t)snprintf(t + used, cap - used, "endpoints:\n");
	char a1[64], seen[12][64];
	for (int i = 0; i < 12; i++) {
		bool dup;
		do {
			(i % 3 == 2) ? rand_v6(a1, sizeof(a1), 1) : rand_v4(a1, sizeof(a1), 1);
			dup = false;
			for (int k = 0; k < i && !dup; k++)
				dup = !strcmp(seen[k], a1);
		} while (dup);
		strcpy(seen[i], a1);
		used += (size_t)snprintf(t + used, cap - used,
		                         "  - {addresses: [\"%s\"], namespace: ns%d, labels: {app: %s}}\n",
		                         a1, i % 2, apps[rnd(4)]);
	}
	used += (size_t)snprintf(t + used, cap - used, "host: {detect: false, addresses: [10.1.1.1]}\n");
	return t;
}

/* Same random address space as the rules, so most queries hit something. */
static void rand_addr(uint8_t fam, char *out, size_t n)
{
	if (fam == 4) {
		if (rnd(10) == 0)
			snprintf(out, n, "192.0.2.%u", rnd(256));
		else
			rand_v4(out, n, 0);
	} else {
		rand_v6(out, n, 0);
	}
}

static int fill_labels(const struct identity_db *ids, uint8_t fam, const char *ip, const char ***labels,
                       size_t *n)
{
	const struct identity_endpoint *e = identity_lookup_str(ids, ip);
	(void)fam;
	*labels = (const char **)e->identity->labels;
	*n = e->identity->n_labels;
	return 0;
}

static void test_random(void)
{
	int lookup = bpf_program__fd(skel->progs.pol_lookup);
	int rounds = 6, mismatch_ref = 0, mismatch_kernel = 0, queries = 0, kernel_queries = 0;
	int hits_rule = 0, drops = 0;
	for (int round = 0; round < rounds; round++) {
		char *pt = random_policy(40 + round * 40), *it = random_ids(), err[4096], err2[4096];
		struct policy *p = policy_load_string(pt, strlen(pt), "random.yaml", err, sizeof(err));
		struct identity_db *ids = identity_db_load_string(it, strlen(it), "random-ids.yaml", NULL, err2,
		                                                  sizeof(err2));
		if (!p || !ids) {
			printf("  round %d: %s\n%s\n", round, p ? err2 : err, p ? it : pt);
			CHECK("random policy loads", 0);
			free(pt);
			free(it);
			policy_unref(p);
			identity_db_unref(ids);
			continue;
		}
		struct policy_compiled *c = policy_compile(p, ids, NULL, err, sizeof(err));
		CHECK("random policy compiles", c != NULL);
		if (!c)
			goto next;
		CHECK("random policy applies", policy_bpf_apply(pb, c, err, sizeof(err)) == 0);
		for (int i = 0; i < 2500; i++) {
			struct pkt k;
			memset(&k, 0, sizeof(k));
			k.family = rnd(3) ? 4 : 6;
			static const uint8_t protos[] = { 6, 17, 132, 0 };
			k.proto = protos[rnd(4)];
			if (!k.proto)
				k.proto = k.family == 4 ? 1 : 58;
			rand_addr(k.family, k.src, sizeof(k.src));
			rand_addr(k.family, k.dst, sizeof(k.dst));
			k.sport = (uint16_t)(1024 + rnd(60000));
			k.dport = (uint16_t)(rnd(4) ? 1 + rnd(5200) : rnd(65536));
			if (k.proto == 1 || k.proto == 58)
				k.sport = k.dport = 0;

			struct policy_l34_query q;
			memset(&q, 0, sizeof(q));
			q.family = k.family;
			inet_pton(k.family == 4 ? AF_INET : AF_INET6, k.src, q.saddr);
			inet_pton(k.family == 4 ? AF_INET : AF_INET6, k.dst, q.daddr);
			q.proto = k.proto;
			q.sport = k.sport;
			q.dport = k.proto == 1 || k.proto == 58 ? 0x0800 : k.dport;
			const char **sl, **dl;
			fill_labels(ids, k.family, k.src, &sl, &q.n_src_labels);
			fill_labels(ids, k.family, k.dst, &dl, &q.n_dst_labels);
			q.src_labels = sl;
			q.dst_labels = dl;
			struct policy_verdict ref, got;
			policy_eval_l34(p, &q, &ref);
			struct policy_result cr;
			policy_compiled_lookup(c, q.family, q.saddr, q.daddr, q.proto, q.dport, &cr);
			policy_result_to_verdict(&cr, &got);
			queries++;
			hits_rule += ref.rule >= 0;
			drops += ref.action == POLICY_DENY;
			if (ref.action != got.action || ref.rule != got.rule || ref.match_type != got.match_type ||
			    ref.drop_reason != got.drop_reason || ref.direction != got.direction) {
				if (mismatch_ref++ < 5)
					printf("  mismatch round %d: %s:%u -> %s:%u proto %u: reference %s/%d/%u/%u, "
					       "compiled %s/%d/%u/%u\n", round, k.src, k.sport, k.dst, k.dport, k.proto,
					       ref.action ? "deny" : "allow", ref.rule, ref.match_type, ref.direction,
					       got.action ? "deny" : "allow", got.rule, got.match_type, got.direction);
			}
			if (i % 5)
				continue;
			struct policy_result kr;
			if (run_prog(lookup, &k, &kr) < 0) {
				mismatch_kernel++;
				continue;
			}
			kernel_queries++;
			if (memcmp(&kr, &cr, sizeof(kr))) {
				char b1[100], b2[100];
				if (mismatch_kernel++ < 5)
					printf("  kernel mismatch round %d: %s:%u -> %s:%u proto %u: kernel %s, user %s\n",
					       round, k.src, k.sport, k.dst, k.dport, k.proto, fmt_res(p, &kr, b1, sizeof(b1)),
					       fmt_res(p, &cr, b2, sizeof(b2)));
			}
		}
	next:
		policy_compiled_free(c);
		policy_unref(p);
		identity_db_unref(ids);
		free(pt);
		free(it);
	}
	printf("  random: %d queries (%d decided by a rule, %d denied), %d through the kernel\n", queries,
	       hits_rule, drops, kernel_queries);
	CHECK("random queries exercise rules and denials", hits_rule > queries / 4 && drops > queries / 10);
	CHECK_U64("compiled lookup == reference evaluation", (uint64_t)mismatch_ref, 0);
	CHECK_U64("kernel lookup == compiled lookup (bit for bit)", (uint64_t)mismatch_kernel, 0);
}

/* --- atomic swaps ------------------------------------------------------------- */

struct swap_ctx {
	atomic_int stop;
	atomic_long checks, bad, seen_a, seen_b;
	uint64_t rev_a, rev_b;
	int prog;
};

/* A packet that policy A forwards by rule 0 and policy B drops by rule 0:
 * any other answer (the default of a half-filled set, a rule id of the
 * other revision) means a reader saw a mix. */
static void *swap_reader(void *arg)
{
	struct swap_ctx *s = arg;
	struct pkt k = P("10.77.0.1", 40000, "10.88.0.9", 80, 6);
	while (!atomic_load(&s->stop)) {
		struct policy_result r;
		if (run_prog(s->prog, &k, &r) < 0)
			continue;
		atomic_fetch_add(&s->checks, 1);
		bool a = r.revision == s->rev_a && r.verdict == POLICY_VERDICT_FORWARDED && r.rule_id == 0;
		bool b = r.revision == s->rev_b && r.verdict == POLICY_VERDICT_DROPPED && r.rule_id == 0;
		atomic_fetch_add(a ? &s->seen_a : &s->seen_b, a || b ? 1 : 0);
		if (!a && !b)
			atomic_fetch_add(&s->bad, 1);
	}
	return NULL;
}

static char *many_rules(const char *head, int n)
{
	size_t cap = 256 + (size_t)n * 120, used = 0;
	char *t = malloc(cap);
	used += (size_t)snprintf(t + used, cap - used, "%s", head);
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(t + used, cap - used,
		                         "  - {name: x%d, action: deny, direction: egress, toCIDR: [172.%d.%d.0/24]}\n",
		                         i, 16 + i / 256, i % 256);
	return t;
}

static void test_atomic_swap(struct identity_db *ids)
{
	char *ta = many_rules("mode: enforce\ndefaultAction: deny\nrules:\n"
	                      "  - {name: a, action: allow, direction: egress, toCIDR: [10.88.0.0/16],\n"
	                      "     endpointSelector: {matchLabels: {\"reserved:world\": \"\"}},\n"
	                      "     toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]}\n", 1500);
	char *tb = many_rules("mode: enforce\ndefaultAction: allow\nrules:\n"
	                      "  - {name: b, action: deny, direction: ingress, fromCIDR: [10.77.0.0/16],\n"
	                      "     endpointSelector: {matchLabels: {\"reserved:world\": \"\"}}}\n", 1500);
	struct policy *pa = load_policy(ta), *pbl = load_policy(tb);
	free(ta);
	free(tb);
	if (!pa || !pbl) {
		CHECK("swap policies load", 0);
		return;
	}
	char err[300];
	struct policy_compiled *ca = policy_compile(pa, ids, NULL, err, sizeof(err));
	struct policy_compiled *cb = policy_compile(pbl, ids, NULL, err, sizeof(err));
	CHECK("swap policies compile", ca && cb);
	if (!ca || !cb)
		goto out;
	struct policy_compile_stats st;
	policy_compiled_stats(cb, &st);
	CHECK("policy B fills thousands of entries", st.addr_entries + st.rule_entries > 2000);

	struct swap_ctx s = { .rev_a = policy_revision(pa), .rev_b = policy_revision(pbl),
		              .prog = bpf_program__fd(skel->progs.pol_lookup) };
	pthread_t th;
	policy_bpf_apply(pb, ca, err, sizeof(err));
	pthread_create(&th, NULL, swap_reader, &s);
	int swaps = 0, apply_errors = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (swaps = 0; swaps < 16; swaps++) {
		apply_errors += policy_bpf_apply(pb, swaps % 2 ? ca : cb, err, sizeof(err)) != 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20)
			break;
	}
	atomic_store(&s.stop, 1);
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  swaps: %d in %.2f s (%zu address + %zu rule entries in B), lookups during swaps: %ld "
	       "(A %ld, B %ld)\n", swaps, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       st.addr_entries, st.rule_entries, atomic_load(&s.checks), atomic_load(&s.seen_a),
	       atomic_load(&s.seen_b));
	CHECK_U64("swaps without errors", (uint64_t)apply_errors, 0);
	CHECK("readers saw both policies", atomic_load(&s.seen_a) > 0 && atomic_load(&s.seen_b) > 0);
	CHECK_U64("no reader ever saw a mix", (uint64_t)atomic_load(&s.bad), 0);

	/* control: rewriting the active set in place is visibly not atomic,
	 * so the check above can fail */
	policy_bpf_apply(pb, ca, err, sizeof(err));
	struct swap_ctx s2 = s;
	atomic_store(&s2.stop, 0);
	atomic_store(&s2.bad, 0);
	atomic_store(&s2.checks, 0);
	pthread_create(&th, NULL, swap_reader, &s2);
	uint32_t zero = 0;
	struct policy_state cur;
	bpf_map_lookup_elem(maps.state, &zero, &cur);
	int afd = maps.rules[cur.active & 1];
	struct policy_rule_key rk;
	while (!bpf_map_get_next_key(afd, NULL, &rk))
		bpf_map_delete_elem(afd, &rk);
	usleep(20000);
	atomic_store(&s2.stop, 1);
	pthread_join(th, NULL);
	CHECK("control: an in-place rewrite is seen by readers", atomic_load(&s2.bad) > 0);
	policy_bpf_clear(pb);
out:
	policy_compiled_free(ca);
	policy_compiled_free(cb);
	policy_unref(pa);
	policy_unref(pbl);
}

/* --- attach mode (tests/netns/test_policy_enforce.sh) -------------------------- */

static volatile sig_atomic_t got_hup, got_term;
static void on_sig(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void print_counters(const char *what)
{
	uint64_t c[POLICY_CNT_MAX];
	if (policy_bpf_counters(pb, c))
		return;
	printf("%s:", what);
	for (int i = 0; i < POLICY_CNT_MAX; i++)
		printf(" %s=%llu", policy_counter_name(i), (unsigned long long)c[i]);
	printf("\n");
	fflush(stdout);
}

/* Load POLICY and IDS, compile, apply: the reload path of a daemon. The
 * old policy stays when anything fails. */
static void reload(const char *ppath, const char *ipath, uint64_t *rev)
{
	char err[4096];
	struct identity_opts io = { .detect_host = true };
	struct policy *p = policy_load_file(ppath, err, sizeof(err));
	struct identity_db *ids = p ? identity_db_load_file(ipath, &io, err, sizeof(err)) : NULL;
	struct policy_compiled *c = ids ? policy_compile(p, ids, NULL, err, sizeof(err)) : NULL;
	if (c && !policy_bpf_apply(pb, c, err, sizeof(err))) {
		*rev = policy_revision(p);
		printf("policy loaded: %s mode, %zu rules\n", policy_mode(p) == POLICY_AUDIT ? "audit" : "enforce",
		       policy_rule_count(p));
	} else {
		printf("policy refused: %s\n", err);
		printf("policy kept: %s\n", *rev ? "previous" : "none");
	}
	fflush(stdout);
	policy_compiled_free(c);
	identity_db_unref(ids);
	policy_unref(p);
}

static int attach_mode(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_policy_bpf attach IFNAME POLICY IDENTITIES\n");
		return 2;
	}
	char err[512];
	unsigned ifindex = if_nametoindex(argv[2]);
	libbpf_set_print(NULL);
	skel = policy_prog_bpf__open_and_load();
	if (!ifindex || !skel || policy_bpf_maps_from_obj(skel->obj, &maps, err, sizeof(err))) {
		printf("cannot load or find %s\n", argv[2]);
		return 1;
	}
	pb = policy_bpf_open(&maps);
	int fd = bpf_program__fd(skel->progs.pol_flow);
	const char *mode = "native";
	if (bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE, NULL)) {
		mode = "generic";
		if (bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_SKB_MODE, NULL)) {
			printf("cannot attach XDP to %s: %s\n", argv[2], strerror(errno));
			return 1;
		}
	}
	uint64_t rev = 0;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);   /* no signal lost between checks */
	signal(SIGHUP, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	reload(argv[3], argv[4], &rev);
	printf("attached (%s XDP)\n", mode);
	fflush(stdout);
	while (!got_term) {
		if (!got_hup)
			sigsuspend(&old);
		if (got_hup) {
			got_hup = 0;
			reload(argv[3], argv[4], &rev);
		}
	}
	print_counters("counters");
	bpf_xdp_detach((int)ifindex, !strcmp(mode, "native") ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE, NULL);
	policy_bpf_close(pb);
	policy_prog_bpf__destroy(skel);
	return 0;
}

int main(int argc, char **argv)
{
	char err[1024];
	if (argc > 1 && !strcmp(argv[1], "attach"))
		return attach_mode(argc, argv);
	libbpf_set_print(NULL);
	skel = policy_prog_bpf__open_and_load();
	CHECK("load the test programs", skel != NULL);
	if (!skel)
		return CHECK_DONE();
	CHECK("find the policy maps",
	      policy_bpf_maps_from_obj(skel->obj, &maps, err, sizeof(err)) == 0);
	pb = policy_bpf_open(&maps);
	struct identity_db *ids = identity_db_load_string(ids_text, strlen(ids_text), "ids.yaml", &id_opts,
	                                                  err, sizeof(err));
	CHECK("identities load", ids != NULL);
	if (ids) {
		test_example(ids);
		test_random();
		test_atomic_swap(ids);
		identity_db_unref(ids);
	}
	policy_bpf_close(pb);
	policy_prog_bpf__destroy(skel);
	return CHECK_DONE();
}
