/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel policy maps: the L3/L4 part of a policy (lib/policy.h) compiled by
 * lib/policy_bpf.c, read per packet by include/policy.bpf.h. Shared by BPF
 * and user space: change it here only.
 *
 * How 10k CIDR rules stay one lookup: addresses are not matched against
 * rules one by one. The compiler splits the address space into classes:
 * every prefix the identities and the rules mention becomes an entry of an
 * LPM trie whose value names two classes,
 *   subj  the set of rules whose endpointSelector selects the address, and
 *   peer  the set of rules that have the address as a peer (CIDR, labels,
 *         entity, FQDN),
 * numbered so that equal sets share a number. A packet costs two trie
 * lookups (source, destination) and at most two more in the rule trie, one
 * per direction, keyed by (subject class, peer class, direction, protocol,
 * destination port) where port ranges are port prefixes. The compiler
 * resolves overlaps (deny wins, then the first rule) so the longest match in
 * the rule trie already is the answer.
 *
 * Atomic updates: two complete sets of tries (index 0 and 1) and a state
 * word naming the active one. User space fills the inactive set, writes its
 * meta entry, then flips `active` (one 32-bit store); a packet reads the
 * state once and uses one set throughout, so it sees either the old policy
 * or the new one, never a mix.
 *
 * Maps (defined in policy.bpf.h; user space finds them by these names):
 *   policy_state     ARRAY[1]  struct policy_state
 *   policy_meta      ARRAY[2]  struct policy_meta, per set
 *   policy_addr_0/1  LPM_TRIE  struct policy_addr_key -> struct policy_addr_val
 *   policy_rules_0/1 LPM_TRIE  struct policy_rule_key -> struct policy_rule_val
 *   policy_counters  PERCPU_ARRAY[POLICY_CNT_MAX] __u64, per packet
 */
#ifndef FLOWD_POLICY_MAPS_H
#define FLOWD_POLICY_MAPS_H

#include <linux/types.h>

#ifndef POLICY_ADDR_MAX_ENTRIES
#define POLICY_ADDR_MAX_ENTRIES 262144   /* per set; tries allocate per entry */
#endif
#ifndef POLICY_RULE_MAX_ENTRIES
#define POLICY_RULE_MAX_ENTRIES 1048576
#endif

/* policy_meta.flags */
#define POLICY_META_LOADED 1

/* Actions and verdicts. Verdict values are Hubble's (flow.proto Verdict). */
#define POLICY_ACT_ALLOW 0
#define POLICY_ACT_DENY 1
#define POLICY_MODE_ENFORCE 0
#define POLICY_MODE_AUDIT 1
#define POLICY_VERDICT_NONE 0        /* no policy loaded */
#define POLICY_VERDICT_FORWARDED 1
#define POLICY_VERDICT_DROPPED 2
#define POLICY_VERDICT_AUDIT 4
#define POLICY_DIR_INGRESS 1         /* Hubble TrafficDirection */
#define POLICY_DIR_EGRESS 2
#define POLICY_RULE_NONE 0xffffffffu /* the default action decided */
#define POLICY_REASON_DENIED 133     /* POLICY_DENIED: no rule allowed it */
#define POLICY_REASON_DENY 181       /* POLICY_DENY: a deny rule matched */

/* Fixed part of a rule key in bits: subj (32) + peer (32) + dir (8). */
#define POLICY_RULE_FIXED_BITS 72

struct policy_state {
	__u32 active;        /* 0 or 1: the set packets use */
	__u32 gen;           /* low 32 bits of the active set's revision; 0: no
	                      * policy (the datapath skips policy entirely) */
};

struct policy_meta {
	__u64 revision;      /* policy_revision() of the policy in this set */
	__u32 n_rules;
	__u8 flags;          /* POLICY_META_LOADED: the set holds a policy */
	__u8 mode;           /* POLICY_MODE_* */
	__u8 default_action; /* POLICY_ACT_* */
	__u8 pad;
};

/* An address prefix: prefixlen = 32 + the prefix length (family and pad
 * are always matched); IPv4 in the first 4 bytes of addr. */
struct policy_addr_key {
	__u32 prefixlen;
	__u8 family;         /* 4 or 6 */
	__u8 pad[3];
	__u8 addr[16];
};

struct policy_addr_val {
	__u32 subj;          /* subject class; 0: no rule selects this address */
	__u32 peer;          /* peer class; 0: no rule has it as a peer */
};

/* prefixlen = 72 (every protocol) | 80 (one protocol, every port) |
 * 80 + n (protocol and the first n bits of the port). */
struct policy_rule_key {
	__u32 prefixlen;
	__u32 subj;
	__u32 peer;
	__u8 dir;            /* POLICY_DIR_* */
	__u8 proto;          /* IPPROTO_* */
	__u8 port[2];        /* destination port, big endian */
};

struct policy_rule_val {
	__u32 rule_id;       /* rule index in the policy file */
	__u8 action;         /* POLICY_ACT_* */
	__u8 match_type;     /* Hubble policy_match_type */
	__u8 pad[2];
};

/* What the datapath keeps per flow (e.g. in its flow record) and reports. */
struct policy_result {
	__u64 revision;      /* policy revision that decided; 0: no policy */
	__u32 rule_id;       /* POLICY_RULE_NONE: default action */
	__u8 action;         /* POLICY_ACT_*: the policy's answer */
	__u8 verdict;        /* POLICY_VERDICT_*: what happens to the packets */
	__u8 match_type;     /* Hubble policy_match_type, 0 for the default */
	__u8 direction;      /* POLICY_DIR_* of the deciding rule, 0 for the default */
	__u8 drop_reason;    /* POLICY_REASON_* when denied, else 0 */
	__u8 flags;          /* POLICY_RES_* */
	__u8 pad[6];
};

#define POLICY_RES_REPLY 1   /* allowed as the reply of an allowed connection */
#define POLICY_RES_EXEMPT 2  /* not subject to policy (IPv6 neighbor discovery) */

/* ICMPv6 types never subject to policy: neighbor discovery (router and
 * neighbor solicitation/advertisement, redirect) and multicast listener
 * discovery (queries, reports; switches that snoop them stop forwarding the
 * solicitations otherwise). A default-deny policy must not cut the link. */
static __inline __attribute__((always_inline)) int policy_icmp6_exempt(__u8 type)
{
	return (type >= 133 && type <= 137) || (type >= 130 && type <= 132) || type == 143;
}

/* policy_counters: per packet the datapath applied a result to. */
enum policy_counter {
	POLICY_CNT_LOOKUPS = 0,      /* policy evaluations (new flows) */
	POLICY_CNT_FORWARDED,        /* packets allowed */
	POLICY_CNT_DROP_DENIED,      /* dropped, reason 133 (no rule allowed) */
	POLICY_CNT_DROP_DENY,        /* dropped, reason 181 (deny rule) */
	POLICY_CNT_AUDIT_DENIED,     /* audit mode: would have been dropped, 133 */
	POLICY_CNT_AUDIT_DENY,       /* audit mode: would have been dropped, 181 */
	POLICY_CNT_MAX
};

/* A struct policy_result as a flow keeps it (16 bytes of struct flow_entry,
 * include/flow_table.h; struct flow_rec in user space). gen: the low 32
 * bits of the revision (revisions count policy loads from 1: they are the
 * revision); 0 = no result (no policy when the flow was last seen). */
struct policy_flow {
	__u32 gen;
	__u32 rule_id;
	__u8 action, verdict, match_type, direction, drop_reason, flags;
	__u8 counter;        /* enum policy_counter of its packets (POLICY_CNT_MAX: none) */
	__u8 pad;
};

/* The policy_counters slot a packet with this verdict counts in. */
static __inline __attribute__((always_inline)) __u8 policy_counter_of(__u8 verdict, __u8 drop_reason)
{
	switch (verdict) {
	case POLICY_VERDICT_FORWARDED:
		return POLICY_CNT_FORWARDED;
	case POLICY_VERDICT_DROPPED:
		return drop_reason == POLICY_REASON_DENY ? POLICY_CNT_DROP_DENY : POLICY_CNT_DROP_DENIED;
	case POLICY_VERDICT_AUDIT:
		return drop_reason == POLICY_REASON_DENY ? POLICY_CNT_AUDIT_DENY : POLICY_CNT_AUDIT_DENIED;
	default:
		return POLICY_CNT_MAX;
	}
}

static __inline __attribute__((always_inline)) void
policy_flow_pack(const struct policy_result *r, struct policy_flow *f)
{
	f->gen = (__u32)r->revision;
	f->rule_id = r->rule_id;
	f->action = r->action;
	f->verdict = r->verdict;
	f->match_type = r->match_type;
	f->direction = r->direction;
	f->drop_reason = r->drop_reason;
	f->flags = r->flags;
	f->counter = policy_counter_of(r->verdict, r->drop_reason);
	f->pad = 0;
}

static __inline __attribute__((always_inline)) void
policy_flow_unpack(const struct policy_flow *f, struct policy_result *r)
{
	__builtin_memset(r, 0, sizeof(*r));
	r->revision = f->gen;
	r->rule_id = f->rule_id;
	r->action = f->action;
	r->verdict = f->gen ? f->verdict : POLICY_VERDICT_NONE;
	r->match_type = f->match_type;
	r->direction = f->direction;
	r->drop_reason = f->drop_reason;
	r->flags = f->flags;
}

#endif /* FLOWD_POLICY_MAPS_H */
