/*
 * What payload capture adds to the TC program, per packet, with
 * BPF_PROG_TEST_RUN (TC egress, 1 flow, hot cache), all measured in the
 * same run, interleaved, median of several runs:
 *
 *   pass         bare `return TC_ACT_OK`
 *   no capture   tc/flow_tc.bpf.c compiled without the capture code
 *                (tests/bpf/bench_tc_nocap.bpf.c): accounting only
 *   not selected the real program, the flow not selected (port 4444):
 *                what every packet of an unselected flow pays
 *   selected     the real program, the flow selected (port 80/53): the
 *                packet goes into the ring (drained between runs)
 *
 *   bench_payload [-q] [-r repeat] [-n runs]
 * Needs root. The README ("Live L7: cost") explains the columns.
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
#include "payload_bpf.h"
#include "../unit/pkt_build.h"
#include "tc/flow_tc.skel.h"
#include "tests/bpf/bench_pass.skel.h"
#include "tests/bpf/bench_tc_nocap.skel.h"

#define MAX_RUNS 15

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_payload: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static int noop(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

static unsigned test_run(int fd, const struct pb *p, unsigned repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("BPF_PROG_TEST_RUN", errno);
	return o.duration;
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? -1 : x > y;
}

static void frame(struct pb *p, int kind, uint16_t port)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	switch (kind) {
	case 0:  /* 64-byte SYN */
		pb_ipv4(p, 6, 5, 1, 0x4000);
		pb_tcp(p, 40000, port, 1, 0, FLOW_TCP_SYN, 5, 64240);
		pb_finish(p, 64 - 4 - 54);
		break;
	case 1:  /* 1500-byte TCP */
		pb_ipv4(p, 6, 5, 1, 0x4000);
		pb_tcp(p, 40000, port, 1, 1, FLOW_TCP_ACK | FLOW_TCP_PSH, 8, 512);
		pb_payload(p, 1500 - 20 - 32);
		pb_finish(p, 0);
		break;
	default: /* DNS query */
		pb_ipv4(p, 17, 5, 1, 0);
		pb_udp(p, 53000, port, 40);
		pb_payload(p, 40);
		pb_finish(p, 0);
		break;
	}
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "64B TCP SYN", "1500B TCP", "DNS query" };
	static const uint16_t sel_port[] = { 80, 80, 53 };
	unsigned repeat = 100000, runs = 7;
	struct bench_pass_bpf *pass;
	struct bench_tc_nocap_bpf *nocap;
	struct flow_tc_bpf *tc;
	struct payload_select sel;
	struct ring_buffer *rb;
	char err[256];
	int c;

	while ((c = getopt(argc, argv, "qr:n:")) != -1) {
		switch (c) {
		case 'q': repeat = 20000; runs = 3; break;
		case 'r': repeat = strtoul(optarg, NULL, 0); break;
		case 'n': runs = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: bench_payload [-q] [-r repeat] [-n runs]\n");
			return 2;
		}
	}
	if (!repeat || runs < 1 || runs > MAX_RUNS || repeat > 2000000) {
		fprintf(stderr, "bench_payload: bad arguments\n");
		return 2;
	}
	libbpf_set_print(NULL);
	pass = bench_pass_bpf__open_and_load();
	nocap = bench_tc_nocap_bpf__open_and_load();
	tc = flow_tc_bpf__open();
	if (!pass || !nocap || !tc)
		die("open BPF objects", errno);
	/* room for one run of 1500-byte records */
	if ((c = payload_bpf_prepare(tc->obj, (uint64_t)repeat * (1500 + 64))) || (c = flow_tc_bpf__load(tc)))
		die("load the TC object", c);
	payload_select_defaults(&sel);
	sel.budget_bytes = 0;   /* the budget would cut a long run of one flow */
	if (payload_bpf_configure(tc->obj, &sel, err, sizeof(err))) {
		fprintf(stderr, "bench_payload: %s\n", err);
		return 1;
	}
	rb = ring_buffer__new(bpf_map__fd(tc->maps.payload_ring), noop, NULL, NULL);
	if (!rb)
		die("ring buffer", errno);

	printf("ns/packet, TC egress, BPF_PROG_TEST_RUN, 1 flow, %u repetitions, median of %u runs\n",
	       repeat, runs);
	printf("%-12s %6s %10s %12s %9s %8s %9s\n", "frame", "pass", "no capture", "not selected",
	       "selected", "added", "sel/nocap");
	for (int f = 0; f < 3; f++) {
		struct pb on, off;
		unsigned v[4][MAX_RUNS], m[4];
		int fd[4] = { bpf_program__fd(pass->progs.pass_tc), bpf_program__fd(nocap->progs.flow_tc_egress),
		              bpf_program__fd(tc->progs.flow_tc_egress), bpf_program__fd(tc->progs.flow_tc_egress) };

		frame(&on, f, sel_port[f]);
		frame(&off, f, 4444);
		/* first packets: flow entries created and decided */
		test_run(fd[2], &off, 1);
		test_run(fd[3], &on, 1);
		ring_buffer__consume(rb);
		for (unsigned r = 0; r < runs; r++) {
			for (int p = 0; p < 4; p++) {
				v[p][r] = test_run(fd[p], p == 3 ? &on : &off, repeat);
				ring_buffer__consume(rb);
			}
		}
		for (int p = 0; p < 4; p++) {
			qsort(v[p], runs, sizeof(unsigned), cmp_u);
			m[p] = v[p][runs / 2];
		}
		printf("%-12s %6u %10u %12u %9u %8d %8.2fx\n", names[f], m[0], m[1], m[2], m[3],
		       (int)m[3] - (int)m[1], (double)m[3] / m[1]);
		fflush(stdout);
	}
	{
		uint64_t k[PAYLOAD_CNT_MAX];

		if (!payload_bpf_read_counters(bpf_map__fd(tc->maps.payload_counters), k))
			printf("records %llu, ring full %llu (a ring-full run measures the drop path: "
			       "raise the ring or lower -r)\n", (unsigned long long)k[PAYLOAD_CNT_RECORDS],
			       (unsigned long long)k[PAYLOAD_CNT_RING_FULL]);
	}
	ring_buffer__free(rb);
	flow_tc_bpf__destroy(tc);
	bench_tc_nocap_bpf__destroy(nocap);
	bench_pass_bpf__destroy(pass);
	return 0;
}
