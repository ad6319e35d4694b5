/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* TC (clsact) flow accounting for egress, and for ingress where XDP is not
 * used. Same record semantics as xdp/flow_xdp.bpf.c (include/flow_account.bpf.h);
 * TC_ACT_UNSPEC, so the filters after ours on the hook still run
 * (TC_ACT_OK would end classification there), or TC_ACT_SHOT for what an
 * enforced policy denies (include/flow_policy.bpf.h). A GSO packet counts as the
 * frames it leaves as. Packets of flows selected for L7 go to flowd through
 * the payload ring (include/payload_capture.bpf.h): flow_tc_capture
 * does only that, for ingress where XDP does the accounting. */
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include "flow_account.bpf.h"
#include "flow_policy.bpf.h"
#ifndef FLOW_TC_NO_PAYLOAD
#include "payload_capture.bpf.h"
#else
/* tests/bpf/bench_tc_nocap.bpf.c: the same programs without payload
 * capture, to measure what it adds */
#define payload_after_account(skb, e, st, pi) ((void)(e))
#endif

#define VLAN_HLEN 4

/* Parse the skb (pulling headers beyond the linear part if needed) into
 * *pi; returns pkt_parse_eth()'s status. */
static __always_inline int flow_tc_parse(struct __sk_buff *skb, struct pkt_info *pi)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	int st;

	st = pkt_parse_eth(data, data_end, pi);
	if (pkt_status_truncated(st) && skb->data_end - skb->data < skb->len) {
		/* headers beyond the linear part: pull them in and retry */
		__u32 want = skb->len < 256 ? skb->len : 256;

		if (bpf_skb_pull_data(skb, want) == 0) {
			data = (void *)(long)skb->data;
			data_end = (void *)(long)skb->data_end;
			st = pkt_parse_eth(data, data_end, pi);
		}
	}
	/* The stack keeps a VLAN tag it took off the frame (always so at
	 * ingress, and for hw-accelerated tags at egress) in vlan_tci: it was
	 * the outermost tag on the wire, and tcpdump counts its 4 bytes too. */
	if (skb->vlan_present) {
		pi->vlan_ids[1] = pi->vlan_ids[0];
		pi->vlan_ids[0] = skb->vlan_tci & 0xfff;
		pi->n_vlans = pi->n_vlans < PKT_MAX_VLANS ? pi->n_vlans + 1 : PKT_MAX_VLANS;
	}
	return st;
}

static __always_inline int flow_tc(struct __sk_buff *skb, __u8 direction)
{
	struct flow_entry *e;
	struct pkt_info pi;
	__u64 bytes = skb->len;
	int st;

	flow_keep_in_memory(&pi);
	st = flow_tc_parse(skb, &pi);
	if (skb->vlan_present)
		bytes += VLAN_HLEN;
	/* A GSO packet (TCP builds them even with offloads off) leaves as
	 * gso_segs frames, each with a copy of the headers: count what the
	 * wire (and tcpdump on this interface) sees. */
	__u32 segs = skb->gso_segs > 1 ? skb->gso_segs : 1;
	if (segs > 1 && st == PKT_OK)
		bytes += (__u64)(segs - 1) * (pi.payload_off + (skb->vlan_present ? VLAN_HLEN : 0));
	e = flow_account_n(st, &pi, bytes, segs, skb->ifindex, direction);
	/* segs again from the skb: keeping it alive to here would make the
	 * verifier walk every path of the accounting twice */
	segs = skb->gso_segs;
	segs += segs == 0;
	if (flow_policy_apply(e, segs))
		return TC_ACT_SHOT;   /* an enforced policy denies it: not captured either */
	payload_after_account(skb, e, st, &pi);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int flow_tc_ingress(struct __sk_buff *skb)
{
	return flow_tc(skb, FLOW_DIR_INGRESS);
}

SEC("tc")
int flow_tc_egress(struct __sk_buff *skb)
{
	return flow_tc(skb, FLOW_DIR_EGRESS);
}

#ifndef FLOW_TC_NO_PAYLOAD
/* Ingress when XDP counts: find the entry XDP made and capture; counts
 * nothing else. */
SEC("tc")
int flow_tc_capture(struct __sk_buff *skb)
{
	struct flow_key key;
	struct pkt_info pi;
	int st;

	flow_keep_in_memory(&pi);
	st = flow_tc_parse(skb, &pi);
	if (st != PKT_OK)
		return TC_ACT_UNSPEC;
	flow_key_from_pkt(&pi, skb->ifindex, FLOW_DIR_INGRESS, &key);
	if (pi.frag == PKT_FRAG_LATER) {
		struct frag_key fk;
		struct frag_val *fv;

		flow_frag_key(&fk, &pi);
		fv = bpf_map_lookup_elem(&frag_ports, &fk);
		if (fv) {
			key.sport = fv->sport;
			key.dport = fv->dport;
		}
	}
	payload_after_account(skb, flow_table_find(&key), st, &pi);
	return TC_ACT_UNSPEC;
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
