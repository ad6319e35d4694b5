/*
 * The XDP and TC programs in the real kernel (BPF_PROG_TEST_RUN, no mocks):
 * crafted frames for every parse path, asserting the exact flow table
 * entries and counters afterwards. The TC object shares the XDP object's
 * maps (as flowd loads them), so both hooks are checked against one table.
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
#include "flow_record.h"
#include "flow_table.h"
#include "pkt_parse.h"
#include "../unit/pkt_build.h"
#include "xdp/flow_xdp.skel.h"
#include "tc/flow_tc.skel.h"

#define IFINDEX_LO 1     /* test runs see the loopback device */
#define XDP_PASS_RET 2
#define TC_OK_RET -1 /* TC_ACT_UNSPEC: the filters after ours still run */

struct env {
	struct flow_xdp_bpf *xdp;
	struct flow_tc_bpf *tc;
	struct flow_table_cfg cfg;
	struct flow_table tab;
	int ncpus;
};

static struct env E;
static char nb[256];

#define NAME(...) (snprintf(nb, sizeof(nb), __VA_ARGS__), nb)

static int env_open(struct env *e, __u32 buckets)
{
	struct bpf_map *m;
	int err;

	memset(e, 0, sizeof(*e));
	e->ncpus = libbpf_num_possible_cpus();
	if (flow_table_cfg_init(&e->cfg, buckets, 12345))
		return -EINVAL;
	e->xdp = flow_xdp_bpf__open();
	e->tc = flow_tc_bpf__open();
	if (!e->xdp || !e->tc)
		return -errno;
	FLOW_TABLE_CONFIGURE(e->xdp, &e->cfg);
	FLOW_TABLE_CONFIGURE(e->tc, &e->cfg);
	if ((err = flow_xdp_bpf__load(e->xdp)))
		return err;
	/* as flowd does: the TC object uses the XDP object's maps */
	bpf_object__for_each_map(m, e->tc->obj) {
		struct bpf_map *src;

		if (bpf_map__is_internal(m) || !strncmp(bpf_map__name(m), "payload_", 8))
			continue;  /* the payload capture maps are TC's own */
		src = bpf_object__find_map_by_name(e->xdp->obj, bpf_map__name(m));
		if (!src || (err = bpf_map__reuse_fd(m, bpf_map__fd(src))))
			return src ? err : -ENOENT;
	}
	if ((err = flow_tc_bpf__load(e->tc)))
		return err;
	return flow_table_mmap(&e->tab, bpf_map__fd(e->xdp->maps.flow_sigs),
	                       bpf_map__fd(e->xdp->maps.flows), buckets);
}

static void env_close(struct env *e)
{
	flow_table_munmap(&e->tab);
	flow_tc_bpf__destroy(e->tc);
	flow_xdp_bpf__destroy(e->xdp);
}

enum hook { XDP, TC_IN, TC_EG };

static int run(struct env *e, enum hook h, const void *frame, size_t len)
{
	int fd = h == XDP ? bpf_program__fd(e->xdp->progs.flow_xdp)
	       : h == TC_IN ? bpf_program__fd(e->tc->progs.flow_tc_ingress)
	       : bpf_program__fd(e->tc->progs.flow_tc_egress);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	return (int)o.retval;
}

/* run and check that the program passed the packet */
static void send(enum hook h, const struct pb *p)
{
	int rv = run(&E, h, p->b, p->len);

	if (rv != (h == XDP ? XDP_PASS_RET : TC_OK_RET)) {
		printf("FAIL: test run returned %d\n", rv);
		check_failures++;
	}
}

static void counters(struct env *e, __u64 *out)
{
	__u64 v[256];

	memset(out, 0, sizeof(__u64) * FLOW_CNT_MAX);
	for (__u32 i = 0; i < FLOW_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(e->xdp->maps.flow_counters), &i, v))
			continue;
		for (int c = 0; c < e->ncpus && c < 256; c++)
			out[i] += v[c];
	}
}

static struct flow_key key_of(int family, __u8 proto, __u16 sport, __u16 dport, __u8 dir,
                              __u16 vlan)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	if (family == 4) {
		memcpy(k.saddr, PB_IP4_SRC, 4);
		memcpy(k.daddr, PB_IP4_DST, 4);
	} else {
		memcpy(k.saddr, PB_IP6_SRC, 16);
		memcpy(k.daddr, PB_IP6_DST, 16);
	}
	k.family = family;
	k.proto = proto;
	k.sport = sport;
	k.dport = dport;
	k.ifindex = IFINDEX_LO;
	k.direction = dir;
	k.vlan_id = vlan;
	return k;
}

static int lookup(const struct flow_key *k, struct flow_rec *r)
{
	return flow_table_lookup(&E.tab, &E.cfg, k, r);
}

/* The record of k has exactly these packets/bytes/flags. */
static void expect_rec(const char *what, const struct flow_key *k, __u64 packets, __u64 bytes,
                       __u16 flags, __u16 first_flags)
{
	struct flow_rec r;
	int n = lookup(k, &r);

	CHECK_U64(NAME("%s: one entry", what), n, 1);
	CHECK_U64(NAME("%s: packets", what), r.packets, packets);
	CHECK_U64(NAME("%s: bytes", what), r.bytes, bytes);
	CHECK_U64(NAME("%s: tcp flags", what), r.tcp_flags, flags);
	CHECK_U64(NAME("%s: first tcp flags", what), r.first_tcp_flags, first_flags);
}

/* Counter deltas: run f, compare every counter with want (others: 0). */
struct delta { int idx; __u64 v; };

static void expect_counters(const char *what, const __u64 *before, const struct delta *d, int n)
{
	__u64 now[FLOW_CNT_MAX];
	int bad = 0;

	counters(&E, now);
	for (int i = 0; i < FLOW_CNT_MAX; i++) {
		__u64 want = 0;

		for (int j = 0; j < n; j++)
			if (d[j].idx == i)
				want = d[j].v;
		if (now[i] - before[i] != want) {
			printf("FAIL: %s: counter %s moved by %llu, want %llu\n", what, flow_counter_name(i),
			       (unsigned long long)(now[i] - before[i]), (unsigned long long)want);
			check_failures++;
			bad++;
		}
	}
	if (!bad)
		printf("PASS: %s: counters\n", what);
}

/* ---- frames ------------------------------------------------------------ */

static void tcp4(struct pb *p, __u16 sport, __u16 dport, __u16 flags, size_t payload)
{
	pb_init(p);
	pb_eth(p, 0x0800);
	pb_ipv4(p, 6, 5, 1, 0x4000);
	pb_tcp(p, sport, dport, 1, 2, flags, 5, 1000);
	pb_payload(p, payload);
	pb_finish(p, p->len < 60 ? 60 - p->len : 0);
}

/* ---- cases ------------------------------------------------------------- */

static void test_tcp_flow(void)
{
	__u64 before[FLOW_CNT_MAX];
	struct pb a, b, c;
	struct flow_key k = key_of(4, 6, 1001, 80, FLOW_DIR_INGRESS, 0);
	struct flow_rec r;

	counters(&E, before);
	tcp4(&a, 1001, 80, FLOW_TCP_SYN, 0);
	tcp4(&b, 1001, 80, FLOW_TCP_ACK, 100);
	tcp4(&c, 1001, 80, FLOW_TCP_FIN | FLOW_TCP_ACK, 0);
	send(XDP, &a);
	send(XDP, &b);
	send(XDP, &b);
	send(XDP, &c);
	expect_rec("xdp tcp flow", &k, 4, 60 + 154 + 154 + 60, FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_FIN,
	           FLOW_TCP_SYN);
	lookup(&k, &r);
	CHECK("xdp tcp flow: eth_src", memcmp(r.eth_src, PB_MAC_SRC, 6) == 0);
	CHECK("xdp tcp flow: eth_dst", memcmp(r.eth_dst, PB_MAC_DST, 6) == 0);
	CHECK("xdp tcp flow: first_seen set", r.first_seen_ns > 0);
	CHECK("xdp tcp flow: last_seen >= first_seen", r.last_seen_ns >= r.first_seen_ns);
	CHECK("xdp tcp flow: last_seen within a second", r.last_seen_ns - r.first_seen_ns < 1000000000ull);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 4 }, { FLOW_CNT_BYTES, 428 }, { FLOW_CNT_NEW_FLOWS, 1 } };
		expect_counters("xdp tcp flow", before, d, 3);
	}

	/* the same frames at TC egress: same record semantics, own direction */
	counters(&E, before);
	send(TC_EG, &a);
	send(TC_EG, &b);
	send(TC_EG, &b);
	send(TC_EG, &c);
	k.direction = FLOW_DIR_EGRESS;
	expect_rec("tc egress tcp flow", &k, 4, 428, FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_FIN, FLOW_TCP_SYN);
	lookup(&k, &r);
	CHECK("tc egress tcp flow: eth_src", memcmp(r.eth_src, PB_MAC_SRC, 6) == 0);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 4 }, { FLOW_CNT_BYTES, 428 }, { FLOW_CNT_NEW_FLOWS, 1 } };
		expect_counters("tc egress tcp flow", before, d, 3);
	}

	/* TC ingress (used where XDP is not) counts into the same ingress key */
	tcp4(&a, 1002, 80, FLOW_TCP_SYN, 0);
	send(TC_IN, &a);
	send(XDP, &a);
	k = key_of(4, 6, 1002, 80, FLOW_DIR_INGRESS, 0);
	expect_rec("tc ingress + xdp share the ingress record", &k, 2, 120, FLOW_TCP_SYN, FLOW_TCP_SYN);
}

static void test_timestamps(void)
{
	struct pb a;
	struct flow_key k = key_of(4, 6, 1003, 80, FLOW_DIR_INGRESS, 0);
	struct flow_rec r1, r2;
	long tick_ns = 1000000000L / (E.xdp->kconfig->CONFIG_HZ ? E.xdp->kconfig->CONFIG_HZ : 100);
	struct timespec t0, t1;

	tcp4(&a, 1003, 80, FLOW_TCP_SYN, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send(XDP, &a);
	lookup(&k, &r1);
	usleep(50000);
	send(XDP, &a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	lookup(&k, &r2);
	__u64 m0 = (__u64)t0.tv_sec * 1000000000ull + t0.tv_nsec;
	__u64 m1 = (__u64)t1.tv_sec * 1000000000ull + t1.tv_nsec;
	CHECK("timestamps: first_seen is CLOCK_MONOTONIC", r1.first_seen_ns >= m0 && r1.first_seen_ns <= m1);
	CHECK("timestamps: first_seen unchanged by later packets", r2.first_seen_ns == r1.first_seen_ns);
	/* the second packet came >= 50 ms later; last_seen is jiffy precise */
	CHECK("timestamps: last_seen advanced ~50 ms",
	      r2.last_seen_ns >= r1.first_seen_ns + 50000000ull - (__u64)tick_ns &&
	      r2.last_seen_ns <= m1 + (__u64)tick_ns);
}

static void test_vlans(void)
{
	__u64 before[FLOW_CNT_MAX];
	struct pb p;
	struct flow_key k;

	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 0x2000 | 100, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 2001, 53, 20);
	pb_payload(&p, 20);
	pb_finish(&p, 0);
	send(XDP, &p);
	send(TC_EG, &p);
	k = key_of(4, 17, 2001, 53, FLOW_DIR_INGRESS, 100);
	expect_rec("802.1Q xdp", &k, 1, 18 + 20 + 8 + 20, 0, 0);
	k.direction = FLOW_DIR_EGRESS;
	expect_rec("802.1Q tc egress", &k, 1, 66, 0, 0);

	pb_init(&p);
	pb_eth(&p, 0x88a8);
	pb_vlan(&p, 200, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 2002, 53, 0);
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(4, 17, 2002, 53, FLOW_DIR_INGRESS, 200);
	expect_rec("802.1ad xdp", &k, 1, 46, 0, 0);

	pb_init(&p);
	pb_eth(&p, 0x88a8);
	pb_vlan(&p, 300, 0x8100);
	pb_vlan(&p, 301, 0x86dd);
	pb_ipv6(&p, 6);
	pb_tcp(&p, 2003, 443, 1, 0, FLOW_TCP_SYN, 5, 100);
	pb_finish(&p, 0);
	send(XDP, &p);
	send(TC_EG, &p);
	k = key_of(6, 6, 2003, 443, FLOW_DIR_INGRESS, 300);
	expect_rec("QinQ ipv6 xdp (outer VID in key)", &k, 1, 22 + 40 + 20, FLOW_TCP_SYN, FLOW_TCP_SYN);
	k.direction = FLOW_DIR_EGRESS;
	expect_rec("QinQ ipv6 tc egress", &k, 1, 82, FLOW_TCP_SYN, FLOW_TCP_SYN);

	counters(&E, before);
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 1, 0x8100);
	pb_vlan(&p, 2, 0x8100);
	pb_vlan(&p, 3, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 2004, 53, 0);
	pb_finish(&p, 0);
	send(XDP, &p);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 1 }, { FLOW_CNT_BYTES, p.len },
		                     { FLOW_CNT_NO_KEY_PACKETS, 1 }, { FLOW_CNT_NO_KEY_BYTES, p.len },
		                     { FLOW_CNT_ERR_VLAN_TOO_MANY, 1 } };
		expect_counters("three VLAN tags", before, d, 5);
	}
}

static void test_ipv6(void)
{
	struct pb p;
	struct flow_key k;
	__u64 before[FLOW_CNT_MAX];

	/* hop-by-hop, routing, destination options, AH, then UDP */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 43, 0);
	pb_ext(&p, 60, 2);
	pb_ext(&p, 51, 1);
	pb_ah(&p, 17, 4);
	pb_udp(&p, 3001, 4001, 5);
	pb_payload(&p, 5);
	pb_finish(&p, 0);
	send(XDP, &p);
	send(TC_EG, &p);
	k = key_of(6, 17, 3001, 4001, FLOW_DIR_INGRESS, 0);
	expect_rec("ipv6 ext chain xdp", &k, 1, p.len, 0, 0);
	k.direction = FLOW_DIR_EGRESS;
	expect_rec("ipv6 ext chain tc", &k, 1, p.len, 0, 0);

	counters(&E, before);
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 60);
	for (int i = 0; i < 8; i++)
		pb_ext(&p, 60, 0);
	pb_ext(&p, 6, 0);
	pb_tcp(&p, 3002, 80, 0, 0, FLOW_TCP_SYN, 5, 0);
	pb_finish(&p, 0);
	send(XDP, &p);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 1 }, { FLOW_CNT_BYTES, p.len },
		                     { FLOW_CNT_NO_KEY_PACKETS, 1 }, { FLOW_CNT_NO_KEY_BYTES, p.len },
		                     { FLOW_CNT_ERR_IPV6_EXT_TOO_MANY, 1 } };
		expect_counters("ipv6 nine extension headers", before, d, 5);
	}
}

static void test_fragments(void)
{
	struct pb p;
	struct flow_key k;
	__u64 before[FLOW_CNT_MAX];
	size_t l1, l2, l3;

	counters(&E, before);
	/* IPv4: first (MF, offset 0, UDP header), middle, last */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0x7001, 0x2000);
	pb_udp(&p, 4000, 5000, 2000);
	pb_payload(&p, 1472);
	pb_finish(&p, 0);
	l1 = p.len;
	send(XDP, &p);
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0x7001, 0x2000 | 185);
	pb_payload(&p, 400);
	pb_finish(&p, 0);
	l2 = p.len;
	send(XDP, &p);
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0x7001, 235);
	pb_payload(&p, 136);
	pb_finish(&p, 0);
	l3 = p.len;
	send(XDP, &p);
	k = key_of(4, 17, 4000, 5000, FLOW_DIR_INGRESS, 0);
	expect_rec("ipv4 fragments attributed to the first's ports", &k, 3, l1 + l2 + l3, 0, 0);

	/* a later fragment whose first was never seen: ports 0, counted */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0x7002, 100);
	pb_payload(&p, 40);
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(4, 17, 0, 0, FLOW_DIR_INGRESS, 0);
	expect_rec("ipv4 orphan fragment: ports 0", &k, 1, p.len, 0, 0);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 4 }, { FLOW_CNT_BYTES, l1 + l2 + l3 + p.len },
		                     { FLOW_CNT_NEW_FLOWS, 2 }, { FLOW_CNT_FRAG_FIRST, 1 },
		                     { FLOW_CNT_FRAG_LATER, 3 }, { FLOW_CNT_FRAG_NO_FIRST, 1 } };
		expect_counters("ipv4 fragments", before, d, 6);
	}

	/* IPv6: first fragment (UDP), then the rest */
	counters(&E, before);
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 0, 1, 0xabcdef01);
	pb_udp(&p, 6000, 7000, 3000);
	pb_payload(&p, 1000);
	pb_finish(&p, 0);
	l1 = p.len;
	send(TC_EG, &p);
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 44, 0);
	pb_frag6(&p, 17, 126, 0, 0xabcdef01);
	pb_payload(&p, 800);
	pb_finish(&p, 0);
	l2 = p.len;
	send(TC_EG, &p);
	k = key_of(6, 17, 6000, 7000, FLOW_DIR_EGRESS, 0);
	expect_rec("ipv6 fragments attributed to the first's ports (tc)", &k, 2, l1 + l2, 0, 0);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 2 }, { FLOW_CNT_BYTES, l1 + l2 },
		                     { FLOW_CNT_NEW_FLOWS, 1 }, { FLOW_CNT_FRAG_FIRST, 1 },
		                     { FLOW_CNT_FRAG_LATER, 1 } };
		expect_counters("ipv6 fragments", before, d, 5);
	}
}

static void test_icmp_sctp_other(void)
{
	struct pb p;
	struct flow_key k;
	__u64 before[FLOW_CNT_MAX];

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, 5, 1, 0);
	pb_icmp(&p, 8, 0, 0x1234, 1);
	pb_payload(&p, 56);
	pb_finish(&p, 0);
	send(XDP, &p);
	send(XDP, &p);
	k = key_of(4, 1, 0x1234, 0x0800, FLOW_DIR_INGRESS, 0);
	expect_rec("icmp echo (sport = id, dport = type<<8|code)", &k, 2, 2 * p.len, 0, 0);

	/* port unreachable quoting a UDP datagram */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, 5, 1, 0);
	pb_icmp(&p, 3, 3, 0, 0);
	{
		struct pb in;
		pb_init(&in);
		pb_ipv4(&in, 17, 5, 9, 0);
		pb_udp(&in, 53, 33333, 0);
		pb_finish(&in, 0);
		pb_put(&p, in.b, in.len);
	}
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(4, 1, 0, 0x0303, FLOW_DIR_INGRESS, 0);
	expect_rec("icmp port unreachable", &k, 1, p.len, 0, 0);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 128, 0, 0x4321, 1);
	pb_finish(&p, 0);
	send(TC_EG, &p);
	k = key_of(6, 58, 0x4321, 0x8000, FLOW_DIR_EGRESS, 0);
	expect_rec("icmpv6 echo request (tc)", &k, 1, p.len, 0, 0);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 1, 4, 0, 0);
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(6, 58, 0, 0x0104, FLOW_DIR_INGRESS, 0);
	expect_rec("icmpv6 port unreachable", &k, 1, p.len, 0, 0);

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 132, 5, 1, 0);
	pb_sctp(&p, 36412, 2905);
	pb_payload(&p, 20);
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(4, 132, 36412, 2905, FLOW_DIR_INGRESS, 0);
	expect_rec("sctp", &k, 1, p.len, 0, 0);

	counters(&E, before);
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 47, 5, 1, 0);
	pb_payload(&p, 30);
	pb_finish(&p, 0);
	send(XDP, &p);
	k = key_of(4, 47, 0, 0, FLOW_DIR_INGRESS, 0);
	expect_rec("gre: unknown transport, ports 0", &k, 1, p.len, 0, 0);
	{
		struct delta d[] = { { FLOW_CNT_PACKETS, 1 }, { FLOW_CNT_BYTES, p.len },
		                     { FLOW_CNT_NEW_FLOWS, 1 }, { FLOW_CNT_L4_UNKNOWN, 1 } };
		expect_counters("gre", before, d, 4);
	}

	counters(&E, before);
	{
		__u8 arp[42] = { 0 };
		memcpy(arp, PB_MAC_DST, 6);
		arp[12] = 0x08;
		arp[13] = 0x06;
		CHECK_U64("arp passes", run(&E, XDP, arp, sizeof(arp)), XDP_PASS_RET);
		struct delta d[] = { { FLOW_CNT_PACKETS, 1 }, { FLOW_CNT_BYTES, 42 },
		                     { FLOW_CNT_NO_KEY_PACKETS, 1 }, { FLOW_CNT_NO_KEY_BYTES, 42 },
		                     { FLOW_CNT_NOT_IP, 1 } };
		expect_counters("arp", before, d, 5);
	}
}

/* One malformed frame: passes, counted under reason, no new flow. */
static void expect_malformed(const char *what, enum hook h, const __u8 *frame, size_t len, int st)
{
	__u64 before[FLOW_CNT_MAX];
	int rv;

	counters(&E, before);
	rv = run(&E, h, frame, len);
	CHECK_U64(NAME("%s: passes", what), rv, h == XDP ? XDP_PASS_RET : TC_OK_RET);
	struct delta d[] = { { FLOW_CNT_PACKETS, 1 }, { FLOW_CNT_BYTES, len },
	                     { FLOW_CNT_NO_KEY_PACKETS, 1 }, { FLOW_CNT_NO_KEY_BYTES, len },
	                     { FLOW_CNT_FOR_STATUS(st), 1 } };
	expect_counters(what, before, d, 5);
}

static void test_malformed(void)
{
	struct pb p;
	char what[96];

	/* VLAN + IPv4 with options + TCP with options, cut at every length the
	 * kernel lets us test (>= 14 bytes) */
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 10, 0x0800);
	pb_ipv4(&p, 6, 6, 1, 0);
	pb_tcp(&p, 5001, 80, 1, 2, FLOW_TCP_ACK, 6, 5);
	pb_finish(&p, 0);
	for (size_t n = 14; n < p.len; n++) {
		int st = n < 18 ? PKT_ERR_VLAN_TRUNC : n < 42 ? PKT_ERR_IPV4_TRUNC : PKT_ERR_TCP_TRUNC;
		snprintf(what, sizeof(what), "vlan/ipv4/tcp cut at %zu (%s)", n, pkt_status_name(st));
		expect_malformed(what, n % 2 ? XDP : TC_EG, p.b, n, st);
	}

	/* IPv6 + hop-by-hop + fragment header + UDP, cut in each */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 44, 1);
	pb_frag6(&p, 17, 0, 1, 5);
	pb_udp(&p, 5002, 53, 8);
	pb_finish(&p, 0);
	for (size_t n = 14; n < p.len; n++) {
		int st = n < 54 ? PKT_ERR_IPV6_TRUNC : n < 78 ? PKT_ERR_IPV6_EXT_TRUNC : PKT_ERR_UDP_TRUNC;
		snprintf(what, sizeof(what), "ipv6/ext/udp cut at %zu (%s)", n, pkt_status_name(st));
		/* the skb test runner refuses IPv6 frames without a whole header */
		expect_malformed(what, n % 2 || n < 54 ? XDP : TC_EG, p.b, n, st);
	}

	/* SCTP and ICMP cut short */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 132, 5, 1, 0);
	pb_sctp(&p, 1, 2);
	pb_finish(&p, 0);
	expect_malformed("sctp cut", XDP, p.b, p.len - 1, PKT_ERR_SCTP_TRUNC);
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 128, 0, 1, 1);
	pb_finish(&p, 0);
	expect_malformed("icmpv6 cut", XDP, p.b, p.len - 1, PKT_ERR_ICMP_TRUNC);

	/* bogus IHL, lengths, version, data offset */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 5003, 53, 0);
	pb_finish(&p, 0);
	p.b[14] = 0x43;
	expect_malformed("ipv4 ihl 3", XDP, p.b, p.len, PKT_ERR_IPV4_BAD_IHL);
	p.b[14] = 0x45;
	pb_set16(&p, 16, 12);
	expect_malformed("ipv4 total length 12", TC_EG, p.b, p.len, PKT_ERR_IPV4_BAD_LEN);
	pb_set16(&p, 16, 28);
	p.b[14] = 0x65;
	expect_malformed("version 6 in an ipv4 ethertype", XDP, p.b, p.len, PKT_ERR_BAD_VERSION);
	p.b[14] = 0x45;
	pb_set16(&p, 16, 24);
	expect_malformed("udp shorter than its header per ip length", XDP, p.b, p.len, PKT_ERR_UDP_TRUNC);

	tcp4(&p, 5004, 80, FLOW_TCP_SYN, 0);
	p.b[14 + 20 + 12] = 0x30;
	expect_malformed("tcp data offset 3", XDP, p.b, p.len, PKT_ERR_TCP_BAD_DOFF);
	p.b[14 + 20 + 12] = 0xf0;
	expect_malformed("tcp data offset past the ip length", TC_EG, p.b, p.len, PKT_ERR_TCP_BAD_DOFF);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 6, 3);
	pb_tcp(&p, 5005, 80, 0, 0, FLOW_TCP_SYN, 5, 0);
	pb_finish(&p, 0);
	pb_set16(&p, 18, 16);
	expect_malformed("ipv6 ext longer than the payload length", XDP, p.b, p.len, PKT_ERR_IPV6_BAD_LEN);
}

/* packets = sum(flows) + sum(flow_overflow) + no_key + lost, bytes too */
static void check_conservation(struct env *e, const char *what)
{
	__u64 c[FLOW_CNT_MAX], pk = 0, by = 0;
	struct flow_key k, next, *prev = NULL;
	struct flow_entry ov;

	counters(e, c);
	for (__u32 b = 0; b < e->tab.buckets; b++)
		for (int i = 0; i < FLOW_BUCKET_WAYS; i++) {
			struct flow_rec r;

			if (!flow_sig_in_use(flow_table_sig(&e->tab, b, i)))
				continue;
			flow_entry_read(flow_table_entry(&e->tab, b, i), &r);
			pk += r.packets;
			by += r.bytes;
		}
	while (!bpf_map_get_next_key(bpf_map__fd(e->xdp->maps.flow_overflow), prev, &next)) {
		struct flow_rec r;

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(bpf_map__fd(e->xdp->maps.flow_overflow), &k, &ov))
			continue;
		flow_entry_read(&ov, &r);
		pk += r.packets;
		by += r.bytes;
	}
	CHECK_U64(NAME("%s: packets = table + overflow + no key + lost", what), c[FLOW_CNT_PACKETS],
	          pk + c[FLOW_CNT_NO_KEY_PACKETS] + c[FLOW_CNT_LOST_PACKETS]);
	CHECK_U64(NAME("%s: bytes = table + overflow + no key + lost", what), c[FLOW_CNT_BYTES],
	          by + c[FLOW_CNT_NO_KEY_BYTES] + c[FLOW_CNT_LOST_BYTES]);
}

static void test_eviction(void)
{
	struct pb p;
	struct flow_key k = key_of(4, 6, 6001, 80, FLOW_DIR_INGRESS, 0);
	struct flow_rec r;
	__u32 bk = 0;
	int way = -1;

	tcp4(&p, 6001, 80, FLOW_TCP_ACK, 0);
	send(XDP, &p);
	send(XDP, &p);
	for (__u32 b = 0; b < E.tab.buckets && way < 0; b++)
		for (int i = 0; i < FLOW_BUCKET_WAYS; i++)
			if (flow_sig_in_use(flow_table_sig(&E.tab, b, i)) &&
			    memcmp(&flow_table_entry(&E.tab, b, i)->key, &k, sizeof(k)) == 0) {
				bk = b;
				way = i;
				break;
			}
	CHECK("eviction: entry found by scanning", way >= 0);
	if (way < 0)
		return;
	CHECK("eviction: begin", flow_slot_evict_begin(&E.tab, bk, way, flow_table_sig(&E.tab, bk, way)));
	CHECK("eviction: begin twice fails", !flow_slot_evict_begin(&E.tab, bk, way, FLOW_SIG_USED));
	send(XDP, &p);
	flow_entry_read(flow_table_entry(&E.tab, bk, way), &r);
	CHECK_U64("eviction: retiring entry keeps its final count", r.packets, 2);
	CHECK_U64("eviction: a later packet starts a new entry", lookup(&k, &r), 1);
	CHECK_U64("eviction: new entry has 1 packet", r.packets, 1);
	flow_slot_free(&E.tab, bk, way);
	CHECK_U64("eviction: freed way is free", flow_table_sig(&E.tab, bk, way), FLOW_SIG_FREE);
	send(XDP, &p);
	CHECK_U64("eviction: still one entry after the free", lookup(&k, &r), 1);
	CHECK_U64("eviction: it keeps counting", r.packets, 2);
}

/* A small table of its own: fill it until packets go to the overflow record. */
static void test_map_full(void)
{
	struct env saved = E;
	__u64 c[FLOW_CNT_MAX];
	struct pb p;
	int err, i, full_at = -1;
	size_t bytes_after = 0, pkts_after = 0;

	err = env_open(&E, 2);  /* 2 buckets x 16 ways = 32 flows */
	CHECK_U64("map full: small table loads", err, 0);
	if (err) {
		E = saved;
		return;
	}
	for (i = 0; i < 40; i++) {
		tcp4(&p, 10000 + i, 80, FLOW_TCP_SYN, i);
		send(XDP, &p);
		counters(&E, c);
		if (full_at < 0 && c[FLOW_CNT_MAP_FULL_PACKETS])
			full_at = i;
		if (full_at >= 0) {
			pkts_after++;
			bytes_after += p.len;
		}
	}
	counters(&E, c);
	CHECK_U64("map full: the 33rd flow is the first that does not fit", full_at, 32);
	CHECK_U64("map full: new flows", c[FLOW_CNT_NEW_FLOWS], 32);
	CHECK_U64("map full: packets counted", c[FLOW_CNT_MAP_FULL_PACKETS], pkts_after);
	CHECK_U64("map full: bytes counted", c[FLOW_CNT_MAP_FULL_BYTES], bytes_after);
	CHECK_U64("map full: nothing lost", c[FLOW_CNT_LOST_PACKETS], 0);
	{
		struct flow_key ok;
		struct flow_entry ov;
		struct flow_rec r;

		memset(&ok, 0, sizeof(ok));
		ok.ifindex = IFINDEX_LO;
		ok.direction = FLOW_DIR_INGRESS;
		CHECK("map full: overflow record of the interface exists",
		      bpf_map_lookup_elem(bpf_map__fd(E.xdp->maps.flow_overflow), &ok, &ov) == 0);
		flow_entry_read(&ov, &r);
		CHECK_U64("map full: overflow record packets", r.packets, pkts_after);
		CHECK_U64("map full: overflow record bytes", r.bytes, bytes_after);
		CHECK_U64("map full: overflow record flags", r.tcp_flags, FLOW_TCP_SYN);
	}
	/* existing flows keep counting when the table is full */
	tcp4(&p, 10000, 80, FLOW_TCP_ACK, 0);
	send(XDP, &p);
	{
		struct flow_key k = key_of(4, 6, 10000, 80, FLOW_DIR_INGRESS, 0);
		struct flow_rec r;
		flow_table_lookup(&E.tab, &E.cfg, &k, &r);
		CHECK_U64("map full: existing flow still counted in place", r.packets, 2);
	}
	check_conservation(&E, "map full");
	env_close(&E);
	E = saved;
}

int main(void)
{
	int err;

	if (geteuid() != 0) {
		printf("FAIL: test_datapath needs root (BPF_PROG_TEST_RUN)\n");
		return 1;
	}
	libbpf_set_print(NULL);
	err = env_open(&E, 64);
	if (err) {
		printf("FAIL: load the XDP and TC objects: %s\n", strerror(-err));
		return 1;
	}
	printf("PASS: XDP and TC objects load, TC shares the XDP maps\n");
	{
		struct flow_table_cfg c;
		CHECK("flow_table_cfg_init: refuses 1 bucket", flow_table_cfg_init(&c, 1, 0) == -EINVAL);
		CHECK("flow_table_cfg_init: seeded multipliers are odd",
		      flow_table_cfg_init(&c, 3, 7) == 0 && (c.mul[0] & c.mul[5] & 1));
		CHECK_U64("flow_table_buckets_for: 1M flows at 80% load", flow_table_buckets_for(1000000), 78125);
	}
	test_tcp_flow();
	test_timestamps();
	test_vlans();
	test_ipv6();
	test_fragments();
	test_icmp_sctp_other();
	test_malformed();
	check_conservation(&E, "after every case");
	test_eviction();
	test_map_full();
	env_close(&E);
	return CHECK_DONE();
}
