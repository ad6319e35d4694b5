/*
 * Payload capture in the real kernel (BPF_PROG_TEST_RUN, no mocks): the TC
 * programs over crafted frames, with the selection written by
 * lib/payload_bpf.c, asserting the exact ring records (header fields and
 * frame bytes) and the kernel's loss counters: selection by port, CIDR,
 * transport, endpoint mark, flow mark and probe window; snap length and
 * byte budget cuts (sizes conserved exactly); ring full (every packet a
 * record or counted); the capture-only ingress program next to XDP;
 * a reused table slot starts undecided. Then the records of an HTTP
 * exchange through payload_record_feed() give the same L7 events as the
 * same frames fed to the pipeline the way `flowctl replay` feeds a capture.
 * Needs root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../unit/check.h"
#include "flow_event.h"
#include "flow_record.h"
#include "flow_table.h"
#include "l7.h"
#include "payload_bpf.h"
#include "payload_record.h"
#include "pipeline.h"
#include "pkt_parse.h"
#include "../unit/pkt_build.h"
#include "xdp/flow_xdp.skel.h"
#include "tc/flow_tc.skel.h"

#define IFINDEX_LO 1

/* named here so that the linker takes the parser out of libflowd.a */
extern const struct l7_parser_ops l7_http1_ops;
static const struct l7_parser_ops *const http1_only[] = { &l7_http1_ops };

struct env {
	struct flow_xdp_bpf *xdp;
	struct flow_tc_bpf *tc;
	struct flow_table_cfg cfg;
	struct flow_table tab;
	struct ring_buffer *rb;
	struct payload_select sel;
};

/* records taken from the ring */
#define MAX_RECS 256
struct rec {
	struct payload_record h;
	uint8_t frame[PAYLOAD_SNAP_MAX];
	size_t size;
};
static struct rec recs[MAX_RECS];
static int n_recs;

static struct env E;
static char nb[256];
#define NAME(...) (snprintf(nb, sizeof(nb), __VA_ARGS__), nb)

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (n_recs < MAX_RECS && size <= sizeof(struct rec) - sizeof(size_t)) {
		memcpy(&recs[n_recs], data, size);
		recs[n_recs++].size = size;
	}
	return 0;
}

static int env_open(struct env *e, __u32 ring_bytes)
{
	char err[256];
	struct bpf_map *m;
	int rc;

	memset(e, 0, sizeof(*e));
	if (flow_table_cfg_init(&e->cfg, 64, 777))
		return -EINVAL;
	e->xdp = flow_xdp_bpf__open();
	e->tc = flow_tc_bpf__open();
	if (!e->xdp || !e->tc)
		return -errno;
	FLOW_TABLE_CONFIGURE(e->xdp, &e->cfg);
	FLOW_TABLE_CONFIGURE(e->tc, &e->cfg);
	if ((rc = payload_bpf_prepare(e->tc->obj, ring_bytes)))
		return rc;
	if ((rc = flow_xdp_bpf__load(e->xdp)))
		return rc;
	bpf_object__for_each_map(m, e->tc->obj) {
		struct bpf_map *src;

		if (bpf_map__is_internal(m))
			continue;
		src = bpf_object__find_map_by_name(e->xdp->obj, bpf_map__name(m));
		if (src && (rc = bpf_map__reuse_fd(m, bpf_map__fd(src))))
			return rc;
	}
	if ((rc = flow_tc_bpf__load(e->tc)))
		return rc;
	payload_select_defaults(&e->sel);
	if ((rc = payload_bpf_configure(e->tc->obj, &e->sel, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		return rc;
	}
	e->rb = ring_buffer__new(bpf_map__fd(e->tc->maps.payload_ring), on_record, NULL, NULL);
	if (!e->rb)
		return -errno;
	return flow_table_mmap(&e->tab, bpf_map__fd(e->xdp->maps.flow_sigs),
	                       bpf_map__fd(e->xdp->maps.flows), 64);
}

static void env_close(struct env *e)
{
	ring_buffer__free(e->rb);
	flow_table_munmap(&e->tab);
	flow_tc_bpf__destroy(e->tc);
	flow_xdp_bpf__destroy(e->xdp);
}

static void reconfigure(void)
{
	char err[256];

	if (payload_bpf_configure(E.tc->obj, &E.sel, err, sizeof(err))) {
		printf("FAIL: configure: %s\n", err);
		check_failures++;
	}
}

enum hook { XDP, TC_IN, TC_EG, TC_CAP };

static void send_hook(enum hook h, const struct pb *p)
{
	int fd = h == XDP ? bpf_program__fd(E.xdp->progs.flow_xdp)
	       : h == TC_IN ? bpf_program__fd(E.tc->progs.flow_tc_ingress)
	       : h == TC_EG ? bpf_program__fd(E.tc->progs.flow_tc_egress)
	       : bpf_program__fd(E.tc->progs.flow_tc_capture);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o) || o.retval != (h == XDP ? 2u : (unsigned)-1 /* TC_ACT_UNSPEC */)) {
		printf("FAIL: test run (hook %d): %s, retval %u\n", h, strerror(errno), o.retval);
		check_failures++;
	}
}

/* consume the ring; returns the number of new records */
static int drain(void)
{
	n_recs = 0;
	ring_buffer__consume(E.rb);
	return n_recs;
}

static void counters(uint64_t *out)
{
	if (payload_bpf_read_counters(bpf_map__fd(E.tc->maps.payload_counters), out)) {
		printf("FAIL: read payload counters\n");
		check_failures++;
	}
}

struct delta { int idx; __u64 v; };

static void expect_counters(const char *what, const uint64_t *before, const struct delta *d, int n)
{
	uint64_t now[PAYLOAD_CNT_MAX];
	int bad = 0;

	counters(now);
	for (int i = 0; i < PAYLOAD_CNT_MAX; i++) {
		__u64 want = 0;

		for (int j = 0; j < n; j++)
			if (d[j].idx == i)
				want = d[j].v;
		if (now[i] - before[i] != want) {
			printf("FAIL: %s: counter %s moved by %llu, want %llu\n", what, payload_counter_name(i),
			       (unsigned long long)(now[i] - before[i]), (unsigned long long)want);
			check_failures++;
			bad++;
		}
	}
	if (!bad)
		printf("PASS: %s: counters\n", what);
}

/* ---- frames ------------------------------------------------------------ */

/* TCP/IPv4 198.18.0.1:sport -> 198.18.0.2:dport (rev: the other way) */
static void tcp4x(struct pb *p, int rev, __u16 sport, __u16 dport, __u32 seq, __u32 ack,
                  __u16 flags, const void *data, size_t n)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, 5, 1, 0x4000);
	pb_tcp(p, sport, dport, seq, ack, flags, 5, 1000);
	if (data)
		pb_put(p, data, n);
	else
		pb_payload(p, n);
	pb_finish(p, p->len < 60 ? 60 - p->len : 0);
	if (rev) {
		uint8_t t[6];

		memcpy(t, p->b, 6);
		memcpy(p->b, p->b + 6, 6);
		memcpy(p->b + 6, t, 6);
		memcpy(t, p->b + 26, 4);
		memcpy(p->b + 26, p->b + 30, 4);
		memcpy(p->b + 30, t, 4);
	}
}

static void tcp4(struct pb *p, __u16 sport, __u16 dport, __u16 flags, size_t payload)
{
	tcp4x(p, 0, sport, dport, 1, 2, flags, NULL, payload);
}

static void udp4(struct pb *p, __u16 sport, __u16 dport, size_t payload)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 17, 5, 1, 0);
	pb_udp(p, sport, dport, (uint16_t)payload);
	pb_payload(p, payload);
	pb_finish(p, 0);
}

static void tcp6(struct pb *p, __u16 sport, __u16 dport, size_t payload)
{
	pb_init(p);
	pb_eth(p, 0x86dd);
	pb_ipv6(p, 6);
	pb_tcp(p, sport, dport, 1, 2, FLOW_TCP_ACK, 5, 1000);
	pb_payload(p, payload);
	pb_finish(p, 0);
}

static struct flow_key key4(__u8 proto, __u16 sport, __u16 dport, __u8 dir)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.saddr, PB_IP4_SRC, 4);
	memcpy(k.daddr, PB_IP4_DST, 4);
	k.family = 4;
	k.proto = proto;
	k.sport = sport;
	k.dport = dport;
	k.ifindex = IFINDEX_LO;
	k.direction = dir;
	return k;
}

/* pl_state of the entry of k (-1: none) */
static int state_of(const struct flow_key *k)
{
	__u64 w[FLOW_KEY_WORDS];
	struct flow_hash h;

	memcpy(w, k, sizeof(w));
	flow_table_hash(&E.cfg, w, &h);
	for (int c = 0; c < 2; c++) {
		__u32 b = c ? h.b : h.a;

		for (int i = 0; i < FLOW_BUCKET_WAYS; i++)
			if (flow_table_sig(&E.tab, b, i) == h.sig &&
			    !memcmp(&flow_table_entry(&E.tab, b, i)->key, k, sizeof(*k)))
				return flow_table_entry(&E.tab, b, i)->pl_state;
	}
	return -1;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* ---- cases ------------------------------------------------------------- */

static void test_selected(void)
{
	uint64_t before[PAYLOAD_CNT_MAX], t0, t1;
	struct flow_key k = key4(6, 40000, 80, FLOW_DIR_EGRESS);
	struct pb a, b;
	int n;

	counters(before);
	tcp4(&a, 40000, 80, FLOW_TCP_SYN, 0);
	tcp4(&b, 40000, 80, FLOW_TCP_ACK | FLOW_TCP_PSH, 100);
	t0 = mono_ns();
	send_hook(TC_EG, &a);
	send_hook(TC_EG, &b);
	t1 = mono_ns();
	n = drain();
	CHECK_U64("port 80: two records (SYN and data)", n, 2);
	if (n == 2) {
		CHECK_U64("port 80: SYN record: whole frame", recs[0].h.cap_len, a.len);
		CHECK_U64("port 80: SYN record: wire length", recs[0].h.wire_len, a.len);
		CHECK_U64("port 80: record size = header + frame", recs[1].size,
		          sizeof(struct payload_record) + b.len);
		CHECK_U64("port 80: data record: whole frame", recs[1].h.cap_len, b.len);
		CHECK("port 80: data record: frame bytes", !memcmp(recs[1].frame, b.b, b.len));
		CHECK_U64("port 80: flags", recs[1].h.flags, 0);
		CHECK_U64("port 80: direction", recs[1].h.direction, FLOW_DIR_EGRESS);
		CHECK_U64("port 80: ifindex", recs[1].h.ifindex, IFINDEX_LO);
		CHECK("port 80: ktime within the sends", recs[0].h.ktime_ns >= t0 &&
		      recs[0].h.ktime_ns <= recs[1].h.ktime_ns && recs[1].h.ktime_ns <= t1);
	}
	CHECK_U64("port 80: entry selected", state_of(&k), PAYLOAD_ON);
	{
		struct delta d[] = { { PAYLOAD_CNT_RECORDS, 2 }, { PAYLOAD_CNT_RECORD_BYTES, a.len + b.len },
		                     { PAYLOAD_CNT_FLOWS_ON, 1 } };
		expect_counters("port 80", before, d, 3);
	}

	/* the server's side of it, at ingress: reply direction, own entry */
	tcp4x(&a, 1, 80, 40000, 7, 2, FLOW_TCP_ACK, "HTTP/1.1 200 OK\r\n", 17);
	send_hook(TC_IN, &a);
	n = drain();
	CHECK_U64("port 80 reply at ingress: one record", n, 1);
	if (n == 1)
		CHECK_U64("port 80 reply at ingress: direction", recs[0].h.direction, FLOW_DIR_INGRESS);

	/* DNS over UDP, IPv6 on 8080 */
	counters(before);
	udp4(&a, 53000, 53, 40);
	send_hook(TC_EG, &a);
	tcp6(&b, 41000, 8080, 10);
	send_hook(TC_EG, &b);
	n = drain();
	CHECK_U64("udp 53 and ipv6 8080: records", n, 2);
	{
		struct delta d[] = { { PAYLOAD_CNT_RECORDS, 2 }, { PAYLOAD_CNT_RECORD_BYTES, a.len + b.len },
		                     { PAYLOAD_CNT_FLOWS_ON, 2 } };
		expect_counters("udp 53 and ipv6 8080", before, d, 3);
	}
}

static void test_not_selected(void)
{
	uint64_t before[PAYLOAD_CNT_MAX];
	struct flow_key k = key4(6, 40001, 4444, FLOW_DIR_EGRESS);
	struct pb a;

	counters(before);
	tcp4(&a, 40001, 4444, FLOW_TCP_ACK, 100);
	send_hook(TC_EG, &a);
	send_hook(TC_EG, &a);
	pb_init(&a);
	pb_eth(&a, 0x0800);
	pb_ipv4(&a, 1, 5, 1, 0);
	pb_icmp(&a, 8, 0, 77, 1);
	pb_finish(&a, 0);
	send_hook(TC_EG, &a);   /* ICMP: never */
	CHECK_U64("port 4444, icmp: no records", drain(), 0);
	CHECK_U64("port 4444: entry not selected", state_of(&k), PAYLOAD_OFF);
	{
		struct delta d[] = { { PAYLOAD_CNT_FLOWS_OFF, 2 } };
		expect_counters("port 4444, icmp", before, d, 1);
	}
}

static void test_snaplen(void)
{
	uint64_t before[PAYLOAD_CNT_MAX];
	struct pb a;
	int n;

	E.sel.snaplen = 128;
	reconfigure();
	counters(before);
	tcp4(&a, 40002, 80, FLOW_TCP_ACK, 1448);   /* 54 bytes of headers */
	send_hook(TC_EG, &a);
	n = drain();
	CHECK_U64("snaplen 128: one record", n, 1);
	if (n == 1) {
		CHECK_U64("snaplen 128: cap_len", recs[0].h.cap_len, 128);
		CHECK_U64("snaplen 128: wire_len", recs[0].h.wire_len, a.len);
		CHECK_U64("snaplen 128: flags", recs[0].h.flags, PAYLOAD_F_SNAP_CUT);
		CHECK("snaplen 128: first bytes", !memcmp(recs[0].frame, a.b, 128));
	}
	{
		struct delta d[] = { { PAYLOAD_CNT_RECORDS, 1 }, { PAYLOAD_CNT_RECORD_BYTES, 128 },
		                     { PAYLOAD_CNT_FLOWS_ON, 1 }, { PAYLOAD_CNT_SNAP_CUT, 1 },
		                     { PAYLOAD_CNT_SNAP_CUT_BYTES, 1448 - (128 - 54) } };
		expect_counters("snaplen 128", before, d, 5);
	}
	E.sel.snaplen = PAYLOAD_SNAP_DEFAULT;
	reconfigure();
}

static void test_budget(void)
{
	uint64_t before[PAYLOAD_CNT_MAX], now[PAYLOAD_CNT_MAX], got = 0;
	struct pb a;
	int n;

	E.sel.budget_bytes = 1000;   /* 1000 bytes, and 1000 more per second */
	reconfigure();
	counters(before);
	/* 512 payload bytes per packet are free, the other 888 cost tokens */
	tcp4(&a, 40003, 80, FLOW_TCP_ACK, 1400);
	for (int i = 0; i < 3; i++)
		send_hook(TC_EG, &a);
	n = drain();
	CHECK_U64("budget: three records", n, 3);
	for (int i = 0; i < n; i++)
		got += recs[i].h.cap_len - 54u;
	if (n == 3) {
		CHECK_U64("budget: first record whole", recs[0].h.cap_len, a.len);
		CHECK_U64("budget: first record not cut", recs[0].h.flags, 0);
		CHECK_U64("budget: second record cut by the budget", recs[1].h.flags, PAYLOAD_F_BUDGET_CUT);
		CHECK("budget: second record has the free head and what was left (112 B + at most 1 ms of refill)",
		      recs[1].h.cap_len >= 54 + 512 + 112 && recs[1].h.cap_len <= 54 + 512 + 122);
		CHECK("budget: third record has the free head only (+ at most 1 ms of refill)",
		      recs[2].h.cap_len >= 54 + 512 && recs[2].h.cap_len <= 54 + 514);
		CHECK_U64("budget: third record flagged", recs[2].h.flags, PAYLOAD_F_BUDGET_CUT);
		CHECK_U64("budget: third record wire length", recs[2].h.wire_len, a.len);
	}
	counters(now);
	CHECK_U64("budget: captured + cut = sent payload", got + now[PAYLOAD_CNT_BUDGET_CUT_BYTES] -
	          before[PAYLOAD_CNT_BUDGET_CUT_BYTES], 3 * 1400);
	CHECK_U64("budget: two records cut", now[PAYLOAD_CNT_BUDGET_CUT] - before[PAYLOAD_CNT_BUDGET_CUT], 2);
	/* a second later the bucket is full again */
	usleep(1100000);
	send_hook(TC_EG, &a);
	n = drain();
	CHECK("budget: refilled after a second", n == 1 && recs[0].h.cap_len == a.len && !recs[0].h.flags);
	E.sel.budget_bytes = PAYLOAD_BUDGET_DEFAULT;
	reconfigure();
}

static void test_selection_rules(void)
{
	char err[256];
	struct pb a;
	struct flow_key k;

	/* CIDRs: any port, but only 198.18.0.2 */
	CHECK("cidr: parse", !payload_select_parse_ports(&E.sel, "any", err, sizeof(err)) &&
	      !payload_select_parse_cidrs(&E.sel, "198.18.0.2/32,2001:db8:ffff::/48", err, sizeof(err)));
	reconfigure();
	tcp4(&a, 40010, 4445, FLOW_TCP_ACK, 10);
	send_hook(TC_EG, &a);
	CHECK_U64("cidr 198.18.0.2/32, any port: captured", drain(), 1);
	tcp6(&a, 40011, 4445, 10);   /* 2001:db8::1 -> ::2: outside 2001:db8:ffff::/48 */
	send_hook(TC_EG, &a);
	CHECK_U64("cidr: other IPv6 addresses not captured", drain(), 0);

	payload_select_defaults(&E.sel);   /* no CIDRs: the trie is emptied */
	CHECK("l4: udp only", !payload_select_parse_l4(&E.sel, "udp", err, sizeof(err)));
	reconfigure();
	tcp4(&a, 40012, 80, FLOW_TCP_ACK, 10);
	send_hook(TC_EG, &a);
	CHECK_U64("l4 udp only: tcp port 80 not captured", drain(), 0);
	udp4(&a, 40012, 5353, 10);
	send_hook(TC_EG, &a);
	CHECK_U64("l4 udp only: udp 5353 captured", drain(), 1);
	payload_select_defaults(&E.sel);
	reconfigure();

	/* endpoint marks override the ports */
	{
		uint8_t dst[16] = { 0 };

		memcpy(dst, PB_IP4_DST, 4);
		CHECK("mark 198.18.0.2:7777 on", !payload_bpf_mark_endpoint(E.tc->obj, 4, dst, 7777, 6, PAYLOAD_ON));
		CHECK("mark 198.18.0.2:8000 off", !payload_bpf_mark_endpoint(E.tc->obj, 4, dst, 8000, 6, PAYLOAD_OFF));
		tcp4(&a, 40013, 7777, FLOW_TCP_ACK, 10);
		send_hook(TC_EG, &a);
		CHECK_U64("mark on: port 7777 captured", drain(), 1);
		tcp4x(&a, 1, 7777, 40013, 1, 2, FLOW_TCP_ACK, NULL, 10);   /* reply: source marked */
		send_hook(TC_IN, &a);
		CHECK_U64("mark on: its replies captured", drain(), 1);
		tcp4(&a, 40013, 8000, FLOW_TCP_ACK, 10);
		send_hook(TC_EG, &a);
		CHECK_U64("mark off: port 8000 not captured", drain(), 0);
		CHECK("mark removed", !payload_bpf_mark_endpoint(E.tc->obj, 4, dst, 8000, 6, PAYLOAD_UNDECIDED));
		tcp4(&a, 40014, 8000, FLOW_TCP_ACK, 10);
		send_hook(TC_EG, &a);
		CHECK_U64("mark removed: a new flow to 8000 captured again", drain(), 1);
	}

	/* flowd turns a live flow on and off in its entry */
	tcp4(&a, 40015, 4446, FLOW_TCP_ACK, 10);
	send_hook(TC_EG, &a);
	CHECK_U64("flow mark: not selected at first", drain(), 0);
	k = key4(6, 40015, 4446, FLOW_DIR_EGRESS);
	CHECK_U64("flow mark on: one entry", payload_flow_mark(&E.tab, &E.cfg, &k, PAYLOAD_ON), 1);
	send_hook(TC_EG, &a);
	CHECK_U64("flow mark on: captured", drain(), 1);
	payload_flow_mark(&E.tab, &E.cfg, &k, PAYLOAD_OFF);
	send_hook(TC_EG, &a);
	CHECK_U64("flow mark off: not captured", drain(), 0);

	/* probe window: the first 2 payload packets of any flow */
	E.sel.probe_packets = 2;
	reconfigure();
	k = key4(6, 40016, 4447, FLOW_DIR_EGRESS);
	tcp4(&a, 40016, 4447, FLOW_TCP_SYN, 0);
	send_hook(TC_EG, &a);
	tcp4(&a, 40016, 4447, FLOW_TCP_ACK, 10);
	for (int i = 0; i < 4; i++)
		send_hook(TC_EG, &a);
	CHECK_U64("probe 2: SYN + 2 payload packets captured", drain(), 3);
	CHECK_U64("probe 2: then off", state_of(&k), PAYLOAD_OFF);
	k = key4(6, 40017, 4447, FLOW_DIR_EGRESS);
	tcp4(&a, 40017, 4447, FLOW_TCP_ACK, 10);
	send_hook(TC_EG, &a);
	CHECK_U64("probe: flowd turns it on during the window", payload_flow_mark(&E.tab, &E.cfg, &k, PAYLOAD_ON), 1);
	for (int i = 0; i < 3; i++)
		send_hook(TC_EG, &a);
	CHECK_U64("probe, turned on: all captured", drain(), 4);
	E.sel.probe_packets = 0;
	reconfigure();
}

/* XDP counts, the capture-only TC program finds its entry */
static void test_capture_only(void)
{
	struct flow_key k = key4(6, 40020, 80, FLOW_DIR_INGRESS);
	struct flow_rec r;
	struct pb a;
	int n;

	tcp4(&a, 40020, 80, FLOW_TCP_ACK, 100);
	send_hook(XDP, &a);
	send_hook(TC_CAP, &a);
	n = drain();
	CHECK_U64("capture-only ingress: one record", n, 1);
	if (n == 1) {
		CHECK_U64("capture-only ingress: direction", recs[0].h.direction, FLOW_DIR_INGRESS);
		CHECK_U64("capture-only ingress: whole frame", recs[0].h.cap_len, a.len);
	}
	flow_table_lookup(&E.tab, &E.cfg, &k, &r);
	CHECK_U64("capture-only ingress: counts nothing itself", r.packets, 1);
	tcp4(&a, 40021, 80, FLOW_TCP_ACK, 100);
	send_hook(TC_CAP, &a);   /* no XDP before: no entry */
	CHECK_U64("capture-only ingress without an entry: nothing", drain(), 0);
}

/* a slot freed by eviction and reused starts undecided */
static void test_slot_reuse(void)
{
	struct flow_key k = key4(6, 40030, 4448, FLOW_DIR_EGRESS);
	__u64 w[FLOW_KEY_WORDS];
	struct flow_hash h;
	struct pb a;
	int done = 0;

	tcp4(&a, 40030, 4448, FLOW_TCP_ACK, 10);
	send_hook(TC_EG, &a);
	payload_flow_mark(&E.tab, &E.cfg, &k, PAYLOAD_ON);
	send_hook(TC_EG, &a);
	CHECK_U64("reuse: marked on", drain(), 1);
	memcpy(w, &k, sizeof(w));
	flow_table_hash(&E.cfg, w, &h);
	for (int c = 0; c < 2 && !done; c++) {
		__u32 b = c ? h.b : h.a;

		for (int i = 0; i < FLOW_BUCKET_WAYS && !done; i++) {
			if (flow_table_sig(&E.tab, b, i) != h.sig ||
			    memcmp(&flow_table_entry(&E.tab, b, i)->key, &k, sizeof(k)))
				continue;
			flow_slot_evict_begin(&E.tab, b, i, h.sig);
			flow_slot_free(&E.tab, b, i);
			done = 1;
		}
	}
	CHECK("reuse: evicted", done);
	send_hook(TC_EG, &a);
	CHECK_U64("reuse: the new entry decided afresh (port 4448: off)", drain(), 0);
	CHECK_U64("reuse: state", state_of(&k), PAYLOAD_OFF);
}

/* ---- records -> pipeline, against the replay feed ---------------------- */

struct evlist {
	char *lines[64];
	int n;
};

static void sink(void *user, struct flow_event *ev)
{
	struct evlist *l = user;
	struct fe_record rec = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf b = { 0 };

	/* what legitimately differs between live and replay */
	ev->time_ns = 0;
	ev->uuid[0] = '\0';
	ev->ifindex = 0;
	ev->ifname = NULL;
	ev->l7.latency_ns = 0;
	if (l->n < 64 && !fe_record_to_json(&rec, &b))
		l->lines[l->n++] = strndup(b.data, b.len);
	fe_buf_free(&b);
	flow_event_free(ev);
}

static void test_feed_equals_replay(void)
{
	static const char req[] = "GET /a?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: test\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope\n";
	static const char req2[] = "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi";
	static const char rsp2[] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
	struct { int rev; __u32 seq, ack; __u16 fl; const char *d; enum hook h; } seg[] = {
		{ 0, 100, 0, FLOW_TCP_SYN, NULL, TC_IN },
		{ 1, 500, 101, FLOW_TCP_SYN | FLOW_TCP_ACK, NULL, TC_EG },
		{ 0, 101, 501, FLOW_TCP_ACK, NULL, TC_IN },
		{ 0, 101, 501, FLOW_TCP_ACK | FLOW_TCP_PSH, req, TC_IN },
		{ 1, 501, 101 + sizeof(req) - 1, FLOW_TCP_ACK | FLOW_TCP_PSH, rsp, TC_EG },
		{ 0, 101 + sizeof(req) - 1, 501 + sizeof(rsp) - 1, FLOW_TCP_ACK | FLOW_TCP_PSH, req2, TC_IN },
		{ 1, 501 + sizeof(rsp) - 1, 101 + sizeof(req) - 1 + sizeof(req2) - 1,
		  FLOW_TCP_ACK | FLOW_TCP_PSH, rsp2, TC_EG },
		{ 0, 101 + sizeof(req) - 1 + sizeof(req2) - 1, 501 + sizeof(rsp) - 1 + sizeof(rsp2) - 1,
		  FLOW_TCP_ACK | FLOW_TCP_FIN, NULL, TC_IN },
		{ 1, 501 + sizeof(rsp) - 1 + sizeof(rsp2) - 1, 102 + sizeof(req) - 1 + sizeof(req2) - 1,
		  FLOW_TCP_ACK | FLOW_TCP_FIN, NULL, TC_EG },
	};
	const int nseg = sizeof(seg) / sizeof(seg[0]);
	struct evlist live = { 0 }, replay = { 0 };
	struct pipeline_config pc;
	struct payload_feed_stats st = { 0 };
	struct pipeline *pl;
	struct pb frames[16];
	int n;

	pipeline_config_defaults(&pc);
	pc.emit_l34 = false;
	pc.parsers = http1_only;
	pc.n_parsers = 1;
	for (int i = 0; i < nseg; i++) {
		tcp4x(&frames[i], seg[i].rev, seg[i].rev ? 80 : 40040, seg[i].rev ? 40040 : 80, seg[i].seq,
		      seg[i].ack, seg[i].fl, seg[i].d, seg[i].d ? strlen(seg[i].d) : 0);
		send_hook(seg[i].h, &frames[i]);
	}
	n = drain();
	CHECK_U64("http exchange: a record per packet", n, nseg);

	pl = pipeline_new(&pc, sink, &live);
	for (int i = 0; i < n; i++)
		payload_record_feed(pl, &recs[i], recs[i].size, 1000000000ull + (uint64_t)i * 1000, "lo", &st);
	pipeline_flush(pl, 2000000000ull);
	pipeline_free(pl);
	CHECK_U64("http exchange: records fed", st.records, nseg);

	/* as replay does: frame, caplen, length from the capture, no interface */
	pl = pipeline_new(&pc, sink, &replay);
	for (int i = 0; i < nseg; i++) {
		struct pkt_info pi;
		int ps = pkt_parse_eth(frames[i].b, frames[i].b + frames[i].len, &pi);

		if (ps == PKT_OK)
			pipeline_packet(pl, 1000000000ull + (uint64_t)i * 1000, &pi, frames[i].b,
			                (uint32_t)frames[i].len, (uint32_t)frames[i].len, 0, NULL,
			                FLOW_DIR_INGRESS);
	}
	pipeline_flush(pl, 2000000000ull);
	pipeline_free(pl);

	CHECK_U64("http exchange: 4 L7 events live", live.n, 4);
	CHECK_U64("http exchange: same number as replay", live.n, replay.n);
	for (int i = 0; i < live.n && i < replay.n; i++)
		CHECK_STR(NAME("http exchange: event %d equal", i), live.lines[i], replay.lines[i]);
	CHECK("http exchange: the 500 is there", live.n == 4 && strstr(live.lines[3], "\"code\":500"));
	for (int i = 0; i < live.n; i++)
		free(live.lines[i]);
	for (int i = 0; i < replay.n; i++)
		free(replay.lines[i]);
}

/* the stack's VLAN tag goes back where libpcap puts it */
static void test_feed_vlan(void)
{
	struct { struct payload_record h; uint8_t f[256]; } r;
	struct evlist l = { 0 };
	struct payload_feed_stats st = { 0 };
	struct pipeline_config pc;
	struct pipeline *pl;
	struct pb a;

	tcp4(&a, 40050, 53, FLOW_TCP_SYN, 0);
	memset(&r, 0, sizeof(r));
	r.h.cap_len = (uint16_t)a.len;
	r.h.wire_len = (uint32_t)a.len + 4;
	r.h.flags = PAYLOAD_F_VLAN;
	r.h.vlan_tci = 0x2064;   /* PCP 1, VID 100 */
	r.h.vlan_proto = 0x8100;
	r.h.ifindex = 9;
	memcpy(r.f, a.b, a.len);
	pipeline_config_defaults(&pc);   /* with L3/L4 events: they show the VLAN-keyed flow */
	pl = pipeline_new(&pc, sink, &l);
	CHECK("vlan record fed", !payload_record_feed(pl, &r, sizeof(r.h) + a.len, 1, "x", &st));
	CHECK("short record refused", payload_record_feed(pl, &r, sizeof(r.h) + 10, 1, "x", &st) == -1 &&
	      st.bad_records == 1);
	pipeline_flush(pl, 2);
	pipeline_free(pl);
	CHECK("vlan record: one flow", l.n >= 1);
	{
		/* re-parse what the pipeline got: the tagged frame */
		uint8_t want[256];
		struct pkt_info pi;

		memcpy(want, a.b, 12);
		want[12] = 0x81, want[13] = 0x00, want[14] = 0x20, want[15] = 0x64;
		memcpy(want + 16, a.b + 12, a.len - 12);
		CHECK_U64("vlan frame parses", pkt_parse_eth(want, want + a.len + 4, &pi), PKT_OK);
		CHECK_U64("vlan frame: VID", pi.vlan_ids[0], 100);
	}
	for (int i = 0; i < l.n; i++)
		free(l.lines[i]);
}

/* a full ring: every packet is a record or counted */
/* IP fragments of a selected flow: the later ones (no ports) are captured
 * too, attributed by the kernel's frag_ports (egress, and the capture-only
 * ingress program after XDP); fed to a pipeline they make one datagram each.
 * A later fragment whose first was not seen has no ports: not selected. */
static uint64_t pl_counter(struct pipeline *pl, const char *name)
{
	struct pipeline_counter cs[256];
	size_t n = pipeline_counters(pl, cs, 256);

	for (size_t i = 0; i < n && i < 256; i++)
		if (!strcmp(cs[i].name, name))
			return cs[i].value;
	return (uint64_t)-1;
}

static void test_fragments(void)
{
	struct payload_feed_stats st = { 0 };
	struct evlist l = { 0 };
	struct pipeline_config pc;
	struct pipeline *pl;
	struct pb f[6];
	int n;

	/* IPv4, 53 -> 40060: 1008 + 1008 + 500 bytes of a 2516-byte datagram */
	pb_init(&f[0]);
	pb_eth(&f[0], 0x0800);
	pb_ipv4(&f[0], 17, 5, 0x4242, 0x2000);
	pb_udp(&f[0], 53, 40060, 2508);
	pb_payload(&f[0], 1000);
	pb_finish(&f[0], 0);
	pb_init(&f[1]);
	pb_eth(&f[1], 0x0800);
	pb_ipv4(&f[1], 17, 5, 0x4242, 0x2000 | 126);
	pb_payload(&f[1], 1008);
	pb_finish(&f[1], 0);
	pb_init(&f[2]);
	pb_eth(&f[2], 0x0800);
	pb_ipv4(&f[2], 17, 5, 0x4242, 252);
	pb_payload(&f[2], 500);
	pb_finish(&f[2], 0);
	/* IPv6, 53 -> 40061, at ingress: 1008 + 300 bytes */
	pb_init(&f[3]);
	pb_eth(&f[3], 0x86dd);
	pb_ipv6(&f[3], 44);
	pb_frag6(&f[3], 17, 0, 1, 0x77777777);
	pb_udp(&f[3], 53, 40061, 1300);
	pb_payload(&f[3], 1000);
	pb_finish(&f[3], 0);
	pb_init(&f[4]);
	pb_eth(&f[4], 0x86dd);
	pb_ipv6(&f[4], 44);
	pb_frag6(&f[4], 17, 126, 0, 0x77777777);
	pb_payload(&f[4], 300);
	pb_finish(&f[4], 0);
	for (int i = 0; i < 3; i++)
		send_hook(TC_EG, &f[i]);
	for (int i = 3; i < 5; i++) {
		send_hook(XDP, &f[i]);
		send_hook(TC_CAP, &f[i]);
	}
	n = drain();
	CHECK_U64("fragments: a record per fragment (egress and capture-only ingress)", n, 5);
	for (int i = 0; i < n && i < 5; i++)
		CHECK(NAME("fragments: record %d is the whole frame", i),
		      recs[i].h.cap_len == f[i].len && !memcmp(recs[i].frame, f[i].b, f[i].len) &&
		      recs[i].h.direction == (i < 3 ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS));

	pipeline_config_defaults(&pc);
	pc.emit_l34 = false;
	pl = pipeline_new(&pc, sink, &l);
	for (int i = 0; i < n; i++)
		payload_record_feed(pl, &recs[i], recs[i].size, 1000000000ull + (uint64_t)i * 1000, "lo", &st);
	CHECK_U64("fragments fed: reassembled", pl_counter(pl, "udp.reassembled"), 2);
	CHECK_U64("fragments fed: none unattributed", pl_counter(pl, "packets.fragment_unattributed"), 0);
	pipeline_flush(pl, 2000000000ull);
	pipeline_free(pl);
	for (int i = 0; i < l.n; i++)
		free(l.lines[i]);

	/* a later fragment alone: ports 0, a flow entry that is not selected */
	pb_init(&f[5]);
	pb_eth(&f[5], 0x0800);
	pb_ipv4(&f[5], 17, 5, 0x4343, 126);
	pb_payload(&f[5], 100);
	pb_finish(&f[5], 0);
	send_hook(TC_EG, &f[5]);
	CHECK_U64("fragments: a later one without its first is not captured", drain(), 0);
}

static void test_ring_full(void)
{
	uint64_t before[PAYLOAD_CNT_MAX], now[PAYLOAD_CNT_MAX];
	struct pb a;
	int n, sent = 40;

	env_close(&E);
	if (env_open(&E, 4096)) {
		printf("FAIL: ring full: reopen with a 4 KiB ring\n");
		check_failures++;
		return;
	}
	counters(before);
	tcp4(&a, 40060, 80, FLOW_TCP_ACK, 400);
	for (int i = 0; i < sent; i++)
		send_hook(TC_EG, &a);
	n = drain();
	counters(now);
	CHECK("ring full: some records fit", n > 0 && n < sent);
	CHECK_U64("ring full: records counted", now[PAYLOAD_CNT_RECORDS] - before[PAYLOAD_CNT_RECORDS], n);
	CHECK_U64("ring full: records + lost = sent", n + now[PAYLOAD_CNT_RING_FULL] -
	          before[PAYLOAD_CNT_RING_FULL], sent);
	CHECK_U64("ring full: lost bytes", now[PAYLOAD_CNT_RING_FULL_BYTES] - before[PAYLOAD_CNT_RING_FULL_BYTES],
	          (sent - n) * a.len);
	send_hook(TC_EG, &a);
	CHECK_U64("ring full: room again after draining", drain(), 1);
}

int main(void)
{
	int err;

	libbpf_set_print(NULL);
	if (geteuid() != 0) {
		printf("FAIL: test_payload needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	err = env_open(&E, 1 << 20);
	if (err) {
		printf("FAIL: load the XDP and TC objects: %s\n", strerror(-err));
		return 1;
	}
	test_selected();
	test_not_selected();
	test_snaplen();
	test_budget();
	test_selection_rules();
	test_capture_only();
	test_slot_reuse();
	test_feed_equals_replay();
	test_feed_vlan();
	test_fragments();
	test_ring_full();
	env_close(&E);
	return CHECK_DONE();
}
