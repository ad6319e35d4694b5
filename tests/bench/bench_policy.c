/*
 * Per-packet cost of the L3/L4 policy lookup (include/policy.bpf.h) in XDP,
 * with 10k CIDR rules, next to the same program without policy, measured in
 * the same run with BPF_PROG_TEST_RUN (programs of
 * tests/bpf/policy_prog.bpf.c; median of several calls of `repeat` runs):
 *
 *   parse only         pol_parse: the shared parser, no policy code
 *   no policy loaded   pol_lookup with empty maps (state + meta check)
 *   10k: hit deny      destination inside one of the 10k CIDRs
 *   10k: miss          destination in none of them (default action)
 *   10k: IPv6          an IPv6 packet against the same policy
 *   flow cache hit     pol_flow on an existing flow: the result kept per
 *                      flow (what the datapath pays after the first packet)
 *   10 CIDRs           hit and miss again with a 10-rule policy
 *
 * Also: compile and apply time of the 10k-rule policy and its map sizes.
 *
 *   bench_policy [-q] [-r repeat] [-n runs] [-N rules]
 * Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"
#include "../unit/pkt_build.h"
#include "tests/bpf/policy_prog.skel.h"

#define MAX_RUNS 15

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static size_t frame(uint8_t *out, int v6, const char *src, const char *dst, uint16_t dport)
{
	struct pb p;
	pb_init(&p);
	pb_eth(&p, v6 ? 0x86DD : 0x0800);
	if (v6) {
		pb_ipv6(&p, 6);
		inet_pton(AF_INET6, src, p.b + p.ip_off + 8);
		inet_pton(AF_INET6, dst, p.b + p.ip_off + 24);
	} else {
		pb_ipv4(&p, 6, 5, 1, 0);
		inet_pton(AF_INET, src, p.b + p.ip_off + 12);
		inet_pton(AF_INET, dst, p.b + p.ip_off + 16);
	}
	pb_tcp(&p, 40000, dport, 1, 0, 0x002, 5, 1000);
	pb_finish(&p, v6 ? 0 : 6);   /* a 60-byte minimum frame for IPv4 */
	memcpy(out, p.b, p.len);
	return p.len;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Median ns/packet of `runs` calls of `repeat` repetitions. */
static uint32_t measure(int fd, const uint8_t *f, size_t len, int repeat, int runs, int *ret)
{
	uint32_t d[MAX_RUNS];
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (uint32_t)len,
		            .repeat = repeat);
		if (bpf_prog_test_run_opts(fd, &o)) {
			fprintf(stderr, "bench_policy: test run: %s\n", strerror(errno));
			exit(1);
		}
		d[i] = o.duration;
		*ret = (int)o.retval;
	}
	qsort(d, (size_t)runs, sizeof(d[0]), cmp_u32);
	return d[runs / 2];
}

/* n distinct CIDRs of mixed lengths in 10.0.0.0/8 and 100.64.0.0/10. */
static char *policy_text(int n)
{
	size_t cap = 256 + (size_t)n * 110, used = 0;
	char *t = malloc(cap);
	used += (size_t)snprintf(t + used, cap - used,
	                         "mode: enforce\ndefaultAction: allow\nrules:\n"
	                         "  - {name: web, action: allow, direction: ingress,\n"
	                         "     endpointSelector: {matchLabels: {app: web}},\n"
	                         "     toPorts: [{ports: [{port: \"80\", protocol: TCP}]}]}\n");
	static const int lens[] = { 16, 20, 24, 24, 24, 28, 32 };
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int l = lens[x % 7];
		uint32_t a = (i % 2 ? 0x0a000000u : 0x64400000u) | (uint32_t)(x >> 20) % (i % 2 ? 0x1000000u : 0x400000u);
		if (l < 32)
			a &= ~((1u << (32 - l)) - 1);
		used += (size_t)snprintf(t + used, cap - used,
		                         "  - {name: block-%d, action: deny, direction: egress, "
		                         "toCIDR: [\"%u.%u.%u.%u/%d\"]}\n", i, a >> 24, a >> 16 & 255, a >> 8 & 255,
		                         a & 255, l);
	}
	return t;
}

int main(int argc, char **argv)
{
	int repeat = 200000, runs = 5, nrules = 10000, c;
	while ((c = getopt(argc, argv, "qr:n:N:")) != -1) {
		switch (c) {
		case 'q': repeat = 20000; runs = 3; break;
		case 'r': repeat = atoi(optarg); break;
		case 'n': runs = atoi(optarg); break;
		case 'N': nrules = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_policy [-q] [-r repeat] [-n runs] [-N rules]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || repeat < 1 || nrules < 1) {
		fprintf(stderr, "bench_policy: bad arguments\n");
		return 2;
	}
	libbpf_set_print(NULL);
	struct policy_prog_bpf *skel = policy_prog_bpf__open();
	if (skel) {
		skel->rodata->record_last = 0;   /* no test bookkeeping in the measured path */
		if (policy_prog_bpf__load(skel)) {
			policy_prog_bpf__destroy(skel);
			skel = NULL;
		}
	}
	if (!skel) {
		fprintf(stderr, "bench_policy: cannot load the BPF programs (root needed): %s\n", strerror(errno));
		return 1;
	}
	char err[4096];
	struct policy_bpf_maps maps;
	if (policy_bpf_maps_from_obj(skel->obj, &maps, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: %s\n", err);
		return 1;
	}
	struct policy_bpf *pb = policy_bpf_open(&maps);

	static const char ids_text[] =
		"endpoints:\n"
		"  - {addresses: [198.18.0.10, \"2001:db8::10\"], namespace: bench, labels: {app: web}}\n"
		"host: {detect: false, addresses: [198.18.0.1, \"2001:db8::1\"]}\n";
	struct identity_db *ids = identity_db_load_string(ids_text, strlen(ids_text), "ids", NULL, err,
	                                                  sizeof(err));
	char *text = policy_text(nrules);
	double t0 = now_s();
	struct policy *p = policy_load_string(text, strlen(text), "bench-policy", err, sizeof(err));
	double t1 = now_s();
	struct policy_compiled *cp = p && ids ? policy_compile(p, ids, NULL, err, sizeof(err)) : NULL;
	double t2 = now_s();
	free(text);
	if (!cp) {
		fprintf(stderr, "bench_policy: %s\n", err);
		return 1;
	}
	struct policy_compile_stats st;
	policy_compiled_stats(cp, &st);

	/* frames: the host sends to a listed CIDR, to an unlisted address, v6 */
	uint8_t f_hit[128], f_miss[128], f_v6[128];
	size_t l_hit = frame(f_hit, 0, "198.18.0.1", "0.0.0.0", 443);
	size_t l_miss = frame(f_miss, 0, "198.18.0.1", "192.0.2.77", 443);
	size_t l_v6 = frame(f_v6, 1, "2001:db8::1", "2001:db8:ffff::1", 443);
	/* a destination inside the first block rule's CIDR */
	{
		char *t2s = policy_text(1);
		char *cidr = strstr(t2s, "toCIDR: [\"") + 10;
		*strchr(cidr, '/') = '\0';
		inet_pton(AF_INET, cidr, f_hit + 14 + 16);
		free(t2s);
	}

	int fd_parse = bpf_program__fd(skel->progs.pol_parse);
	int fd_lookup = bpf_program__fd(skel->progs.pol_lookup);
	int fd_flow = bpf_program__fd(skel->progs.pol_flow);
	int r1, r2, r3, r4, r5, r6;

	policy_bpf_clear(pb);
	uint32_t ns_parse = measure(fd_parse, f_miss, l_miss, repeat, runs, &r1);
	uint32_t ns_none = measure(fd_lookup, f_miss, l_miss, repeat, runs, &r2);
	double t3 = now_s();
	if (policy_bpf_apply(pb, cp, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: %s\n", err);
		return 1;
	}
	double t4 = now_s();
	uint32_t ns_hit = measure(fd_lookup, f_hit, l_hit, repeat, runs, &r3);
	uint32_t ns_miss = measure(fd_lookup, f_miss, l_miss, repeat, runs, &r4);
	uint32_t ns_v6 = measure(fd_lookup, f_v6, l_v6, repeat, runs, &r5);
	uint32_t ns_flow = measure(fd_flow, f_miss, l_miss, repeat, runs, &r6);
	/* the same lookups with a 10-rule policy: what the 10k rules add */
	char *small_text = policy_text(10);
	struct policy *ps = policy_load_string(small_text, strlen(small_text), "small", err, sizeof(err));
	struct policy_compiled *cs = ps ? policy_compile(ps, ids, NULL, err, sizeof(err)) : NULL;
	free(small_text);
	if (!cs || policy_bpf_apply(pb, cs, err, sizeof(err))) {
		fprintf(stderr, "bench_policy: %s\n", err);
		return 1;
	}
	int r7, r8;
	uint32_t ns_small_hit = measure(fd_lookup, f_hit, l_hit, repeat, runs, &r7);
	uint32_t ns_small_miss = measure(fd_lookup, f_miss, l_miss, repeat, runs, &r8);
	policy_compiled_free(cs);
	policy_unref(ps);
	/* the baseline again, to see drift within the run */
	uint32_t ns_parse2 = measure(fd_parse, f_miss, l_miss, repeat, runs, &r1);

	printf("policy lookup in XDP, BPF_PROG_TEST_RUN, %d x %d runs (median), 64-byte TCP SYN\n", runs, repeat);
	printf("policy: %d CIDR rules (+1 selector rule): %zu prefixes, %zu address entries, %zu rule entries, "
	       "%zu subject / %zu peer classes\n", nrules, st.prefixes, st.addr_entries, st.rule_entries,
	       st.subject_classes, st.peer_classes);
	printf("        parse %.0f ms, compile %.0f ms, load into the maps %.0f ms\n", (t1 - t0) * 1e3,
	       (t2 - t1) * 1e3, (t4 - t3) * 1e3);
	printf("%-44s %8s %8s %s\n", "case", "ns/pkt", "x parse", "verdict");
	struct { const char *name; uint32_t ns; int ret; } rows[] = {
		{ "parse only (no policy code)", ns_parse, r1 },
		{ "policy code, no policy loaded", ns_none, r2 },
		{ "10k CIDRs: destination in a listed CIDR", ns_hit, r3 },
		{ "10k CIDRs: destination in none (default)", ns_miss, r4 },
		{ "10k CIDRs: IPv6 packet", ns_v6, r5 },
		{ "per-flow result, existing flow (pol_flow)", ns_flow, r6 },
		{ "10 CIDRs: destination in a listed CIDR", ns_small_hit, r7 },
		{ "10 CIDRs: destination in none (default)", ns_small_miss, r8 },
		{ "parse only, again (drift check)", ns_parse2, r1 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		printf("%-44s %8u %8.2f %s\n", rows[i].name, rows[i].ns, ns_parse ? (double)rows[i].ns / ns_parse : 0,
		       rows[i].ret == XDP_DROP ? "XDP_DROP" : "XDP_PASS");
	printf("added by the lookup (10k CIDRs, default path): %d ns/packet; once per flow when kept with the flow\n",
	       (int)ns_miss - (int)ns_parse);

	policy_bpf_clear(pb);
	policy_compiled_free(cp);
	policy_unref(p);
	identity_db_unref(ids);
	policy_bpf_close(pb);
	policy_prog_bpf__destroy(skel);
	return 0;
}
