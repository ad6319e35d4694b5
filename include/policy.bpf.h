/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L3/L4 policy lookup for the XDP and TC programs. BPF only. The maps and
 * their contents are described in policy_maps.h; user space fills them
 * with lib/policy_bpf.c.
 *
 * Use (see tests/bpf/test_policy.bpf.c for a complete program):
 *
 *   struct policy_result pr;
 *   policy_lookup_new_flow(&pi, &pr);     // once, on a flow's first packet;
 *                                        // keep pr with the flow
 *   policy_count_packet(&pr);            // every packet of the flow
 *   if (pr.verdict == POLICY_VERDICT_DROPPED)
 *           return XDP_DROP;             // TC: TC_ACT_SHOT
 *
 * A reply (the reverse of a flow the datapath already allowed) should not be
 * looked up: give it the forward flow's result with policy_as_reply().
 * IPv6 neighbor and multicast listener discovery always pass
 * (policy_icmp6_exempt()).
 *
 * Cost: 2 LPM lookups (source, destination) + at most 2 in the rule trie,
 * plus two array lookups the verifier inlines; no other helper calls.
 */
#ifndef FLOWD_POLICY_BPF_H
#define FLOWD_POLICY_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "pkt_parse.h"
#include "policy_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct policy_state);
} policy_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct policy_meta);
} policy_meta SEC(".maps");

#define POLICY_ADDR_MAP(name)                                  \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);           \
		__uint(max_entries, POLICY_ADDR_MAX_ENTRIES);  \
		__uint(map_flags, BPF_F_NO_PREALLOC);          \
		__type(key, struct policy_addr_key);           \
		__type(value, struct policy_addr_val);         \
	} name SEC(".maps")

#define POLICY_RULE_MAP(name)                                  \
	struct {                                               \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);           \
		__uint(max_entries, POLICY_RULE_MAX_ENTRIES);  \
		__uint(map_flags, BPF_F_NO_PREALLOC);          \
		__type(key, struct policy_rule_key);           \
		__type(value, struct policy_rule_val);         \
	} name SEC(".maps")

POLICY_ADDR_MAP(policy_addr_0);
POLICY_ADDR_MAP(policy_addr_1);
POLICY_RULE_MAP(policy_rules_0);
POLICY_RULE_MAP(policy_rules_1);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POLICY_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} policy_counters SEC(".maps");

static __always_inline void policy_cnt_add_n(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&policy_counters, &idx);

	if (c)
		*c += n;
}

static __always_inline void policy_cnt_add(__u32 idx)
{
	policy_cnt_add_n(idx, 1);
}

/* Count n packets under a verdict (per drop reason for drops). */
static __always_inline void policy_count(__u8 verdict, __u8 drop_reason, __u64 n)
{
	switch (verdict) {
	case POLICY_VERDICT_FORWARDED:
		policy_cnt_add_n(POLICY_CNT_FORWARDED, n);
		break;
	case POLICY_VERDICT_DROPPED:
		policy_cnt_add_n(drop_reason == POLICY_REASON_DENY ? POLICY_CNT_DROP_DENY
		                                                   : POLICY_CNT_DROP_DENIED, n);
		break;
	case POLICY_VERDICT_AUDIT:
		policy_cnt_add_n(drop_reason == POLICY_REASON_DENY ? POLICY_CNT_AUDIT_DENY
		                                                   : POLICY_CNT_AUDIT_DENIED, n);
		break;
	}
}

/* Count one packet under its result. */
static __always_inline void policy_count_packet(const struct policy_result *r)
{
	policy_count(r->verdict, r->drop_reason, 1);
}

static __always_inline struct policy_addr_val *policy__addr(__u32 set, struct policy_addr_key *k)
{
	if (set)
		return bpf_map_lookup_elem(&policy_addr_1, k);
	return bpf_map_lookup_elem(&policy_addr_0, k);
}

static __always_inline struct policy_rule_val *policy__rule(__u32 set, struct policy_rule_key *k)
{
	if (set)
		return bpf_map_lookup_elem(&policy_rules_1, k);
	return bpf_map_lookup_elem(&policy_rules_0, k);
}

/* Classes of one address (0/0 when the trie has nothing for it). */
static __always_inline void policy__classes(__u32 set, __u8 family, const __u8 *addr,
                                            __u32 *subj, __u32 *peer)
{
	struct policy_addr_key k;
	struct policy_addr_val *v;

	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = 32 + (family == 4 ? 32 : 128);
	k.family = family;
	__builtin_memcpy(k.addr, addr, 16);
	v = policy__addr(set, &k);
	*subj = v ? v->subj : 0;
	*peer = v ? v->peer : 0;
}

static __always_inline struct policy_rule_val *policy__rule_lookup(__u32 set, __u8 dir, __u32 subj,
                                                                   __u32 peer, __u8 proto,
                                                                   __u16 dport)
{
	struct policy_rule_key k;

	if (!subj || !peer)
		return 0;
	k.prefixlen = 96;
	k.subj = subj;
	k.peer = peer;
	k.dir = dir;
	k.proto = proto;
	k.port[0] = dport >> 8;
	k.port[1] = dport & 0xff;
	return policy__rule(set, &k);
}

/*
 * What the loaded policy says about a connection opened by a packet from
 * saddr to daddr:dport (proto). addresses as in struct pkt_info. Fills *res
 * (revision 0 / verdict NONE when no policy is loaded) and returns
 * res->verdict.
 */
static __always_inline int policy_lookup_tuple(__u8 family, const __u8 *saddr, const __u8 *daddr,
                                               __u8 proto, __u16 dport, struct policy_result *res)
{
	struct policy_rule_val *eg, *in, *win;
	struct policy_state *st;
	struct policy_meta *m;
	__u32 zero = 0, set, s_subj, s_peer, d_subj, d_peer;

	__builtin_memset(res, 0, sizeof(*res));
	res->rule_id = POLICY_RULE_NONE;
	st = bpf_map_lookup_elem(&policy_state, &zero);
	if (!st)
		return POLICY_VERDICT_NONE;
	set = st->active & 1;
	m = bpf_map_lookup_elem(&policy_meta, &set);
	if (!m || !(m->flags & POLICY_META_LOADED))
		return POLICY_VERDICT_NONE;
	res->revision = m->revision;

	if (proto != 6 && proto != 17 && proto != 132)
		dport = 0;   /* only the "every protocol" entries can match */
	policy__classes(set, family, saddr, &s_subj, &s_peer);
	policy__classes(set, family, daddr, &d_subj, &d_peer);
	/* egress rules of the source, ingress rules of the destination */
	eg = policy__rule_lookup(set, POLICY_DIR_EGRESS, s_subj, d_peer, proto, dport);
	in = policy__rule_lookup(set, POLICY_DIR_INGRESS, d_subj, s_peer, proto, dport);

	/* deny wins; then the rule that comes first in the file */
	win = eg;
	if (!win)
		win = in;
	else if (in && (in->action > eg->action ||
	                (in->action == eg->action && in->rule_id < eg->rule_id)))
		win = in;

	if (win) {
		res->rule_id = win->rule_id;
		res->action = win->action;
		res->match_type = win->match_type;
		res->direction = win == eg ? POLICY_DIR_EGRESS : POLICY_DIR_INGRESS;
		if (win->action == POLICY_ACT_DENY)
			res->drop_reason = POLICY_REASON_DENY;
	} else {
		res->rule_id = POLICY_RULE_NONE;
		res->action = m->default_action;
		if (m->default_action == POLICY_ACT_DENY)
			res->drop_reason = POLICY_REASON_DENIED;
	}
	if (res->action == POLICY_ACT_ALLOW)
		res->verdict = POLICY_VERDICT_FORWARDED;
	else
		res->verdict = m->mode == POLICY_MODE_AUDIT ? POLICY_VERDICT_AUDIT : POLICY_VERDICT_DROPPED;
	return res->verdict;
}

/* The forward flow's result, for its reply direction: replies of an
 * allowed (or audited) connection pass without a lookup. */
static __always_inline void policy_as_reply(const struct policy_result *fwd, struct policy_result *rev)
{
	*rev = *fwd;
	rev->flags |= POLICY_RES_REPLY;
	if (fwd->verdict != POLICY_VERDICT_DROPPED && fwd->verdict != POLICY_VERDICT_NONE) {
		rev->verdict = POLICY_VERDICT_FORWARDED;
		rev->drop_reason = 0;
	}
}

/*
 * First packet of a directional flow whose reverse flow is unknown. A TCP
 * packet other than a bare SYN cannot open a connection: it belongs to one
 * opened before flowd looked (or seen on another hook). It is allowed when
 * the policy allows either it as an opener or the reverse connection it
 * would be the reply of. Everything else is judged as an opener.
 * icmp_type: ICMP/ICMPv6 only; tcp_flags: TCP only.
 */
static __always_inline int policy_lookup_opener(__u8 family, const __u8 *saddr, const __u8 *daddr,
                                                __u8 proto, __u16 sport, __u16 dport, __u8 icmp_type,
                                                __u16 tcp_flags, struct policy_result *res)
{
	struct policy_result rev;

	policy_cnt_add(POLICY_CNT_LOOKUPS);
	policy_lookup_tuple(family, saddr, daddr, proto, dport, res);
	/* IPv6 neighbor and multicast listener discovery pass (policy_maps.h) */
	if (res->verdict != POLICY_VERDICT_NONE && proto == 58 && policy_icmp6_exempt(icmp_type)) {
		res->rule_id = POLICY_RULE_NONE;
		res->action = POLICY_ACT_ALLOW;
		res->verdict = POLICY_VERDICT_FORWARDED;
		res->match_type = 0;
		res->direction = 0;
		res->drop_reason = 0;
		res->flags |= POLICY_RES_EXEMPT;
		return res->verdict;
	}
	if (res->verdict == POLICY_VERDICT_NONE || res->verdict == POLICY_VERDICT_FORWARDED ||
	    proto != 6 || (tcp_flags & (FLOW_TCP_SYN | FLOW_TCP_ACK)) == FLOW_TCP_SYN)
		return res->verdict;
	policy_lookup_tuple(family, daddr, saddr, proto, sport, &rev);
	if (rev.verdict == POLICY_VERDICT_FORWARDED)
		policy_as_reply(&rev, res);
	return res->verdict;
}

/* policy_lookup_opener() for a parsed packet. */
static __always_inline int policy_lookup_new_flow(const struct pkt_info *pi, struct policy_result *res)
{
	return policy_lookup_opener(pi->family, pi->saddr, pi->daddr, pi->proto, pi->sport, pi->dport,
	                            pi->icmp_type, pi->tcp_flags, res);
}

#endif /* FLOWD_POLICY_BPF_H */
