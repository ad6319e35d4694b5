/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Test and benchmark programs for include/policy.bpf.h, run with
 * BPF_PROG_TEST_RUN by tests/bpf/test_policy_bpf.c and
 * tests/bench/bench_policy.c. They show the intended use in the datapath:
 *   pol_lookup  XDP, the lookup on every packet (stateless)
 *   pol_flow    XDP, the lookup once per flow, the result kept with the flow
 *               and given to the reply direction (the datapath's pattern)
 *   pol_tc      TC, pol_lookup's twin (TC_ACT_SHOT for drops)
 *   pol_parse   XDP, the same parse without policy (benchmark baseline)
 * Each stores the result of its last packet in `last_result` (unless
 * record_last is 0: benchmarks).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "pkt_parse.h"
#include "policy.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct policy_result);
} last_result SEC(".maps");

struct pol_flow_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 proto;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct pol_flow_key);
	__type(value, struct policy_result);
} pol_flows SEC(".maps");

/* The benchmark clears this before loading: the verifier then removes the
 * test-only map update from the measured path. */
const volatile __u8 record_last = 1;

static __always_inline void remember(const struct policy_result *r)
{
	__u32 zero = 0;

	if (record_last)
		bpf_map_update_elem(&last_result, &zero, r, BPF_ANY);
}

SEC("xdp")
int pol_lookup(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct policy_result r;
	struct pkt_info pi;
	int st = pkt_parse_eth(data, data_end, &pi);

	if (st != PKT_OK && st != PKT_L4_UNKNOWN)
		return XDP_PASS;
	policy_lookup_new_flow(&pi, &r);
	policy_count_packet(&r);
	remember(&r);
	return r.verdict == POLICY_VERDICT_DROPPED ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int pol_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct pkt_info pi;
	int st = pkt_parse_eth(data, data_end, &pi);

	/* keep the parse result alive like the policy program does */
	if (st != PKT_OK && st != PKT_L4_UNKNOWN)
		return XDP_PASS;
	return pi.dport == 1 ? XDP_DROP : XDP_PASS;
}

static __always_inline void flow_key(const struct pkt_info *pi, struct pol_flow_key *k, int reverse)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, reverse ? pi->daddr : pi->saddr, 16);
	__builtin_memcpy(k->daddr, reverse ? pi->saddr : pi->daddr, 16);
	if (pi->proto == 1 || pi->proto == 58) {
		k->sport = pi->icmp_id;   /* echo request and reply share the id */
		k->dport = pi->icmp_id;
	} else {
		k->sport = reverse ? pi->dport : pi->sport;
		k->dport = reverse ? pi->sport : pi->dport;
	}
	k->family = pi->family;
	k->proto = pi->proto;
}

SEC("xdp")
int pol_flow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct policy_result r, *cached, *fwd;
	struct pol_flow_key k, rk;
	struct pkt_info pi;
	int st = pkt_parse_eth(data, data_end, &pi);

	if (st != PKT_OK && st != PKT_L4_UNKNOWN)
		return XDP_PASS;
	flow_key(&pi, &k, 0);
	cached = bpf_map_lookup_elem(&pol_flows, &k);
	if (cached) {
		r = *cached;
	} else {
		flow_key(&pi, &rk, 1);
		fwd = bpf_map_lookup_elem(&pol_flows, &rk);
		if (fwd && !(fwd->flags & POLICY_RES_REPLY))
			policy_as_reply(fwd, &r);
		else
			policy_lookup_new_flow(&pi, &r);
		bpf_map_update_elem(&pol_flows, &k, &r, BPF_ANY);
	}
	policy_count_packet(&r);
	remember(&r);
	return r.verdict == POLICY_VERDICT_DROPPED ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int pol_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct policy_result r;
	struct pkt_info pi;
	int st = pkt_parse_eth(data, data_end, &pi);

	if (st != PKT_OK && st != PKT_L4_UNKNOWN)
		return TC_ACT_OK;
	policy_lookup_new_flow(&pi, &r);
	policy_count_packet(&r);
	remember(&r);
	return r.verdict == POLICY_VERDICT_DROPPED ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
