/*
 * ns/packet of flowd's XDP and TC programs via BPF_PROG_TEST_RUN, next to a
 * bare `return XDP_PASS` / `return TC_ACT_OK` and a plain "parse + per-CPU
 * hash update" reference (tests/bpf/bench_ref.bpf.c), all measured in the
 * same run, interleaved, median of several runs.
 *
 *   1 flow:   the same frame repeated: every packet but the first hits an
 *             existing record (hot cache).
 *   N flows:  maps pre-populated with N distinct flows; a wrapper
 *             (tests/bpf/bench_vary.bpf.c) rewrites the source address of
 *             each repetition to the next flow and tail-calls the program
 *             under test, so each packet hits a different record, visited
 *             in a different order than inserted. The baseline then is
 *             wrapper + bare return.
 *
 *   bench_bpf [-q] [-r repeat] [-n runs] [-f flows] [-F frame] [-H xdp|tc] [-1|-m] [-S] [-P rules]
 *     -q  quick: fewer repetitions and 64k flows (a smoke run)
 *     -P  with an audit-mode policy of this many CIDR rules loaded (flows
 *         keep their verdict: later packets read it from their entry)
 *     -S  many flows visited in insertion order (see bench_vary.bpf.c)
 *     -F  only frame number F (0-4), -H only that hook,
 *     -1  only the 1-flow table, -m only the many-flows table
 * Needs root. Prints one table; the README explains the columns.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "flow_record.h"
#include "flow_table.h"
#include "identity.h"
#include "policy.h"
#include "policy_bpf.h"
#include "../unit/pkt_build.h"
#include "xdp/flow_xdp.skel.h"
#include "tc/flow_tc.skel.h"
#include "tests/bpf/bench_pass.skel.h"
#include "tests/bpf/bench_ref.skel.h"
#include "tests/bpf/bench_vary.skel.h"

#define MAX_RUNS 15

struct frame {
	const char *name;
	struct pb pb;
	unsigned vary_off;   /* low 32 bits of the source address */
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_bpf: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void make_frames(struct frame *f)
{
	struct pb *p;

	f[0].name = "64B TCP SYN";
	p = &f[0].pb;
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, 5, 1, 0x4000);
	pb_tcp(p, 40000, 80, 1, 0, FLOW_TCP_SYN, 5, 64240);
	pb_finish(p, 64 - 4 - 54); /* 64 bytes on the wire incl. FCS */
	f[0].vary_off = 14 + 12;

	f[1].name = "1500B TCP";
	p = &f[1].pb;
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, 5, 1, 0x4000);
	pb_tcp(p, 40000, 80, 1, 1, FLOW_TCP_ACK | FLOW_TCP_PSH, 8, 512);
	pb_payload(p, 1500 - 20 - 32);
	pb_finish(p, 0);
	f[1].vary_off = 14 + 12;

	f[2].name = "DNS query";
	p = &f[2].pb;
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, 5, 1, 0);
	pb_udp(p, 53000, 53, 40);
	pb_payload(p, 40);
	pb_finish(p, 0);
	f[2].vary_off = 14 + 12;

	f[3].name = "IPv6 TCP";
	p = &f[3].pb;
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 6);
	pb_tcp(p, 40000, 443, 1, 1, FLOW_TCP_ACK, 8, 512);
	pb_payload(p, 100);
	pb_finish(p, 0);
	f[3].vary_off = 14 + 8 + 12;

	f[4].name = "VLAN TCP";
	p = &f[4].pb;
	pb_init(p);
	pb_eth(p, 0x8100);
	pb_vlan(p, 100, 0x0800);
	pb_ipv4(p, 6, 5, 1, 0x4000);
	pb_tcp(p, 40000, 80, 1, 1, FLOW_TCP_ACK, 5, 512);
	pb_payload(p, 100);
	pb_finish(p, 0);
	f[4].vary_off = 18 + 12;
}

static unsigned test_run(int fd, const struct frame *f, int repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->pb.b, .data_size_in = f->pb.len,
	            .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err)
		die("BPF_PROG_TEST_RUN", errno);
	return o.duration;
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static unsigned median(unsigned *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_u);
	return v[n / 2];
}

enum { P_PASS, P_REF, P_FLOWD, N_PROGS };

struct objs {
	struct bench_pass_bpf *pass;
	struct bench_ref_bpf *ref;
	struct bench_vary_bpf *vary;
	struct flow_xdp_bpf *xdp;
	struct flow_tc_bpf *tc;
	int fd[2][N_PROGS];     /* [hook][prog] */
};

/* An audit-mode policy (nothing dropped) of n deny rules on CIDRs in
 * 10.0.0.0/8 and 100.64.0.0/10, compiled into obj's policy maps. */
static void load_policy(struct bpf_object *obj, int n)
{
	size_t cap = 256 + (size_t)n * 110, used = 0;
	char *t = malloc(cap), err[1024];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	static const int lens[] = { 16, 20, 24, 24, 24, 28, 32 };

	if (!t)
		die("policy text", ENOMEM);
	used += (size_t)snprintf(t, cap, "mode: audit\ndefaultAction: allow\nrules:\n");
	for (int i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int l = lens[x % 7];
		uint32_t a = (i % 2 ? 0x0a000000u : 0x64400000u) |
		             (uint32_t)(x >> 20) % (i % 2 ? 0x1000000u : 0x400000u);
		if (l < 32)
			a &= ~((1u << (32 - l)) - 1);
		used += (size_t)snprintf(t + used, cap - used,
		                         "  - {name: block-%d, action: deny, direction: egress, "
		                         "toCIDR: [\"%u.%u.%u.%u/%d\"]}\n", i, a >> 24, a >> 16 & 255,
		                         a >> 8 & 255, a & 255, l);
	}
	const struct identity_opts io = { .detect_host = false };
	struct identity_db *ids = identity_db_default(&io, err, sizeof(err));
	struct policy *p = policy_load_string(t, used, "bench", err, sizeof(err));
	struct policy_compiled *c = p && ids ? policy_compile(p, ids, NULL, err, sizeof(err)) : NULL;
	struct policy_bpf_maps m;
	struct policy_bpf *pb = NULL;
	if (!c || policy_bpf_maps_from_obj(obj, &m, err, sizeof(err)) || !(pb = policy_bpf_open(&m)) ||
	    policy_bpf_apply(pb, c, err, sizeof(err))) {
		fprintf(stderr, "bench_bpf: policy: %s\n", err);
		exit(1);
	}
	policy_bpf_close(pb);
	policy_compiled_free(c);
	policy_unref(p);
	identity_db_unref(ids);
	free(t);
}

static int policy_rules;   /* -P */

static void objs_open(struct objs *o, unsigned flows)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->pass = bench_pass_bpf__open_and_load();
	o->vary = bench_vary_bpf__open_and_load();
	o->ref = bench_ref_bpf__open();
	o->xdp = flow_xdp_bpf__open();
	o->tc = flow_tc_bpf__open();
	if (!o->pass || !o->vary || !o->ref || !o->xdp || !o->tc)
		die("open BPF objects", errno);
	if (flows) {
		/* flowd's table sized for these flows (80% load) */
		__u32 buckets = flow_table_buckets_for(flows);
		struct flow_table_cfg cfg;

		flow_table_cfg_init(&cfg, buckets, 0);
		FLOW_TABLE_CONFIGURE(o->xdp, &cfg);
		FLOW_TABLE_CONFIGURE(o->tc, &cfg);
		bpf_map__set_max_entries(o->ref->maps.ref_flows, flows + 1024);
	}
	if ((err = bench_ref_bpf__load(o->ref)) || (err = flow_xdp_bpf__load(o->xdp)) ||
	    (err = flow_tc_bpf__load(o->tc)))
		die("load BPF objects", err);
	if (policy_rules) {
		load_policy(o->xdp->obj, policy_rules);
		load_policy(o->tc->obj, policy_rules);
	}
	o->fd[0][P_PASS] = bpf_program__fd(o->pass->progs.pass_xdp);
	o->fd[1][P_PASS] = bpf_program__fd(o->pass->progs.pass_tc);
	o->fd[0][P_REF] = bpf_program__fd(o->ref->progs.ref_xdp);
	o->fd[1][P_REF] = bpf_program__fd(o->ref->progs.ref_tc);
	o->fd[0][P_FLOWD] = bpf_program__fd(o->xdp->progs.flow_xdp);
	o->fd[1][P_FLOWD] = bpf_program__fd(o->tc->progs.flow_tc_egress);
}

static void objs_close(struct objs *o)
{
	bench_pass_bpf__destroy(o->pass);
	bench_vary_bpf__destroy(o->vary);
	bench_ref_bpf__destroy(o->ref);
	flow_xdp_bpf__destroy(o->xdp);
	flow_tc_bpf__destroy(o->tc);
}

static void set_target(struct objs *o, int hook, int prog_fd)
{
	__u32 k = 0;
	int m = bpf_map__fd(hook ? o->vary->maps.target_tc : o->vary->maps.target_xdp);

	if (bpf_map_update_elem(m, &k, &prog_fd, BPF_ANY))
		die("prog array", errno);
}

/* A prime below n that does not divide it (n >= 2): visiting k * stride
 * mod n touches every flow once, far from insertion order. */
static unsigned measure_stride(unsigned n)
{
	for (unsigned s = n / 2 + n / 7 + 1; s > 1; s--) {
		int prime = 1;

		for (unsigned d = 2; d * d <= s && prime; d++)
			prime = s % d != 0;
		if (prime && n % s)
			return s;
	}
	return 1;
}

static void row(const char *frame, int hook, unsigned flows, const unsigned *ns)
{
	printf("%-12s %-4s %8u %6u %6u %6u %7.2fx %7.2fx\n", frame, hook ? "tc" : "xdp", flows,
	       ns[P_PASS], ns[P_REF], ns[P_FLOWD], (double)ns[P_FLOWD] / ns[P_PASS],
	       (double)ns[P_FLOWD] / ns[P_REF]);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned repeat = 1000000, runs = 7, flows = 1000000;
	int only_frame = -1, only_hook = -1, do_one = 1, do_many = 1, in_order = 0;
	struct frame frames[5];
	struct objs o;
	int c;

	while ((c = getopt(argc, argv, "qr:n:f:F:H:1mSP:")) != -1) {
		switch (c) {
		case 'q': repeat = 100000; runs = 3; flows = 65536; break;
		case 'r': repeat = strtoul(optarg, NULL, 0); break;
		case 'n': runs = strtoul(optarg, NULL, 0); break;
		case 'f': flows = strtoul(optarg, NULL, 0); break;
		case 'F': only_frame = atoi(optarg); break;
		case 'H': only_hook = strcmp(optarg, "tc") == 0; break;
		case '1': do_many = 0; break;
		case 'm': do_one = 0; break;
		case 'S': in_order = 1; break;
		case 'P': policy_rules = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: bench_bpf [-q] [-r repeat] [-n runs] [-f flows] "
			        "[-F frame] [-H xdp|tc] [-1|-m] [-S] [-P rules]\n");
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || !repeat || !flows) {
		fprintf(stderr, "bench_bpf: bad arguments\n");
		return 2;
	}
	libbpf_set_print(NULL);
	make_frames(frames);

	printf("ns/packet, BPF_PROG_TEST_RUN, median of %u runs; pass = bare return, "
	       "ref = plain parse + per-CPU hash%s", runs,
	       in_order ? "; many flows in insertion order" : "");
	if (policy_rules)
		printf("; flowd with an audit policy of %d CIDR rules", policy_rules);
	printf("\n");
	printf("%-12s %-4s %8s %6s %6s %6s %8s %8s\n", "frame", "hook", "flows", "pass", "ref",
	       "flowd", "fl/pass", "fl/ref");

	/* 1 flow: direct runs, programs interleaved within each run */
	objs_open(&o, 0);
	for (int fi = 0; fi < 5 && do_one; fi++) {
		if (only_frame >= 0 && fi != only_frame)
			continue;
		for (int hook = 0; hook < 2; hook++) {
			if (only_hook >= 0 && hook != only_hook)
				continue;
			unsigned v[N_PROGS][MAX_RUNS], med[N_PROGS];

			for (unsigned r = 0; r < runs; r++)
				for (int p = 0; p < N_PROGS; p++)
					v[p][r] = test_run(o.fd[hook][p], &frames[fi], repeat);
			for (int p = 0; p < N_PROGS; p++)
				med[p] = median(v[p], runs);
			row(frames[fi].name, hook, 1, med);
		}
	}
	objs_close(&o);

	/* many flows: fresh maps per frame, filled by one pass of the wrapper */
	for (int fi = 0; fi < 5 && do_many; fi++) {
		if (only_frame >= 0 && fi != only_frame)
			continue;
		objs_open(&o, flows);
		o.vary->bss->vary_off = frames[fi].vary_off;
		o.vary->bss->nflows = flows;
		for (int hook = 0; hook < 2; hook++) {
			unsigned v[N_PROGS][MAX_RUNS], med[N_PROGS];
			int vfd = bpf_program__fd(hook ? o.vary->progs.vary_tc : o.vary->progs.vary_xdp);

			if (only_hook >= 0 && hook != only_hook)
				continue;

			for (int p = P_REF; p < N_PROGS; p++) {
				set_target(&o, hook, o.fd[hook][p]);
				o.vary->bss->next = 0;
				o.vary->bss->stride = 1;
				test_run(vfd, &frames[fi], flows);
			}
			o.vary->bss->stride = in_order ? 1 : measure_stride(flows);
			for (unsigned r = 0; r < runs; r++) {
				for (int p = 0; p < N_PROGS; p++) {
					set_target(&o, hook, o.fd[hook][p]);
					o.vary->bss->next = 0;
					v[p][r] = test_run(vfd, &frames[fi], flows);
				}
			}
			for (int p = 0; p < N_PROGS; p++)
				med[p] = median(v[p], runs);
			row(frames[fi].name, hook, flows, med);
		}
		objs_close(&o);
	}
	return 0;
}
