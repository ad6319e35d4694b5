/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The policy in flowd's XDP and TC programs, on top of the flow table
 * (flow_account.bpf.h) and the policy lookup (policy.bpf.h). BPF only.
 *
 *   e = flow_account_n(...);                  // the packet's flow entry
 *   if (flow_policy_apply(e, n))              // its verdict, counted
 *           return XDP_DROP;                  // enforce mode, denied
 *
 * A flow is judged once, on its first packet, and keeps the answer in its
 * entry (struct flow_entry.policy): later packets only read it. The reply
 * direction of a flow already in the table takes the forward flow's answer
 * (policy_as_reply()). A policy reload changes policy_state.gen: each flow
 * is judged again by its next packet, under the new policy, in the
 * direction it was judged before.
 *
 * With no policy loaded (gen 0) a packet costs one inlined array lookup
 * more than the accounting alone.
 */
#ifndef FLOWD_FLOW_POLICY_BPF_H
#define FLOWD_FLOW_POLICY_BPF_H

#include "flow_account.bpf.h"
#include "policy.bpf.h"

/* The key of the reverse direction at the other hook: addresses and
 * ports swapped, ICMP requests and replies paired (as flow_key_reverse()
 * in lib/flow_l34.c). 0 when the flow has no reverse (one-way ICMP). */
static __always_inline int flow_policy_reverse_key(const struct flow_key *k, struct flow_key *r)
{
	__u8 type = k->dport >> 8, peer = 0;

	*r = *k;
	__builtin_memcpy(r->saddr, k->daddr, FLOW_ADDR_LEN);
	__builtin_memcpy(r->daddr, k->saddr, FLOW_ADDR_LEN);
	r->direction = k->direction == FLOW_DIR_INGRESS ? FLOW_DIR_EGRESS : FLOW_DIR_INGRESS;
	if (k->proto == 1) {
		switch (type) {
		case 8: peer = 0; break;
		case 0: peer = 8; break;
		case 13: case 15: case 17: peer = type + 1; break;
		case 14: case 16: case 18: peer = type - 1; break;
		default: return 0;
		}
		r->dport = (__u16)(peer << 8 | (k->dport & 0xff));
		return 1;
	}
	if (k->proto == 58) {
		switch (type) {
		case 128: case 133: case 135: case 139: peer = type + 1; break;
		case 129: case 134: case 136: case 140: peer = type - 1; break;
		default: return 0;
		}
		r->dport = (__u16)(peer << 8 | (k->dport & 0xff));
		return 1;
	}
	r->sport = k->dport;
	r->dport = k->sport;
	return 1;
}

/* Per CPU: working memory of flow_policy_judge() (the stack is nearly all
 * the accounting code's). */
struct flow_policy_work {
	struct policy_result r, fwd;
	struct flow_key rk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_policy_work);
} flow_policy_work SEC(".maps");

/*
 * Judge the flow of entry e under the policy of generation gen (on its
 * first packet, and on the first after a reload) and keep the answer in
 * it. The flow is judged from its key and its first packet's TCP flags, so
 * a later packet judges it as its first would have been. Returns verdict |
 * drop_reason << 8.
 */
static __always_inline int flow_policy_judge(struct flow_entry *e, __u32 gen)
{
	struct flow_entry *rev = 0;
	struct flow_policy_work *w;
	__u32 zero = 0;
	int reply = 0;

	w = bpf_map_lookup_elem(&flow_policy_work, &zero);
	if (!w)
		return 0;
	if (e->policy.gen) {
		/* judged before, under another policy: same direction */
		reply = e->policy.flags & POLICY_RES_REPLY;
	} else if (flow_policy_reverse_key(&e->key, &w->rk)) {
		rev = flow_table_find(&w->rk);
		if (!rev) {
			/* both directions at one hook (ingress only, a mirror) */
			w->rk.direction = e->key.direction;
			rev = flow_table_find(&w->rk);
		}
		/* the reverse flow came first and was not itself a reply */
		reply = rev && !(rev->policy.gen && (rev->policy.flags & POLICY_RES_REPLY)) &&
		        rev->first_seen_ns <= e->first_seen_ns;
	}
	if (reply) {
		if (rev && rev->policy.gen == gen)
			policy_flow_unpack(&rev->policy, &w->fwd);
		else
			policy_lookup_tuple(e->key.family, e->key.daddr, e->key.saddr, e->key.proto,
			                    e->key.sport, &w->fwd);
		policy_as_reply(&w->fwd, &w->r);
	} else {
		policy_lookup_opener(e->key.family, e->key.saddr, e->key.daddr, e->key.proto, e->key.sport,
		                     e->key.dport, e->key.dport >> 8, e->first_tcp_flags, &w->r);
	}
	policy_flow_pack(&w->r, &e->policy);
	return w->r.verdict | w->r.drop_reason << 8;
}

/* Judge the flow of entry e under the policy of generation gen: a global
 * function, verified once on its own (not on each path of the accounting
 * code before it) and called only when a flow has no answer of this
 * generation yet. */
__attribute__((noinline)) int flow_policy_judge_flow(struct flow_entry *e, __u32 gen)
{
	if (!e)
		return 0;
	return flow_policy_judge(e, gen);
}

/* A packet in no flow entry (the table had no room; flow_account_n() left
 * its key in flow_no_room): judged alone, counted; 1 when it must be
 * dropped. */
__attribute__((noinline)) int flow_policy_no_room(__u32 n)
{
	struct policy_result r;
	struct flow_no_room *p;
	__u32 zero = 0;

	p = bpf_map_lookup_elem(&flow_no_room, &zero);
	if (!p || !p->key.family)
		return 0;   /* no flow key (not IP, malformed): not subject to policy */
	policy_lookup_opener(p->key.family, p->key.saddr, p->key.daddr, p->key.proto, p->key.sport,
	                     p->key.dport, p->key.dport >> 8, p->tcp_flags, &r);
	policy_count(r.verdict, r.drop_reason, n);
	return r.verdict == POLICY_VERDICT_DROPPED;
}

/*
 * The verdict on a packet (or a GSO packet of n frames); 1 when it must be
 * dropped. e: its flow's entry from flow_account_n() (NULL: none, see
 * flow_policy_no_room()). No policy loaded: one inlined array lookup. A
 * flow already judged: its answer, counted.
 */
static __always_inline int flow_policy_apply(struct flow_entry *e, __u32 n)
{
	__u32 zero = 0, idx;
	struct policy_state *s = bpf_map_lookup_elem(&policy_state, &zero);
	__u64 *c;

	if (!s || !s->gen)
		return 0;
	if (!e)
		return flow_policy_no_room(n);
	if (e->policy.gen != s->gen)
		flow_policy_judge_flow(e, s->gen);
	idx = e->policy.counter;
	c = bpf_map_lookup_elem(&policy_counters, &idx);
	if (c)
		*c += n;
	return e->policy.verdict == POLICY_VERDICT_DROPPED;
}

#endif /* FLOWD_FLOW_POLICY_BPF_H */
