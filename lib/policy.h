/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Network policy: the policy file (YAML, CiliumNetworkPolicy vocabulary;
 * README "Policy"), its in-memory model and its evaluation, at L3/L4 (a
 * 5-tuple plus the endpoints' labels) and at L7 (an HTTP, DNS or Kafka
 * event). The kernel applies the L3/L4 part from BPF maps compiled by
 * lib/policy_bpf.c; this file is the reference semantics both follow.
 *
 * Semantics, in one place:
 *  - A rule has a direction. An `egress` rule applies to traffic whose
 *    source is selected by its `endpointSelector` and whose destination is
 *    one of its `to*` peers; an `ingress` rule to traffic whose destination
 *    is selected and whose source is one of its `from*` peers. A packet can
 *    meet rules of both directions (both ends are known endpoints).
 *  - Selectors match labels (identity.h). An empty selector `{}` (and a
 *    missing endpointSelector) selects every endpoint except `world` (the
 *    ones labelled reserved:world), as in Cilium.
 *  - Peers: `*Endpoints` (selectors), `*CIDR`/`*CIDRSet` (addresses,
 *    whatever identity they have), `*Entities` (host, world, all),
 *    `toFQDNs` (names the destination address was resolved from, learnt
 *    from DNS answers). Several peer fields are ORed. No peer field: any peer.
 *  - Ports: `toPorts` entries (protocol TCP/UDP/SCTP/ANY, port, endPort)
 *    match the destination port of the connection's first packet. No
 *    toPorts: every protocol and port (ICMP too).
 *  - Deny wins over allow; among rules of the same action the first in the
 *    file decides (its name is reported). No rule: the default action.
 *  - L7 rules (`toPorts[].rules`): an allow rule with L7 rules allows the
 *    connection at L3/L4 and then only the transactions its L7 rules match;
 *    a deny rule with L7 rules denies only the matching transactions.
 *  - Mode: `enforce` drops what is denied at L3/L4 (in the kernel);
 *    `audit` drops nothing and reports AUDIT. L7 denials are never drops
 *    (flowd observes, it does not proxy): they are reported as AUDIT.
 *
 * A loaded policy is immutable and reference-counted: evaluate it from any
 * thread; reload by loading a new one and swapping (policy_store).
 */
#ifndef FLOWD_POLICY_H
#define FLOWD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"

enum policy_action { POLICY_ALLOW = 0, POLICY_DENY = 1 };
enum policy_mode { POLICY_ENFORCE = 0, POLICY_AUDIT = 1 };
/* Values of Hubble's TrafficDirection. */
enum policy_dir { POLICY_DIR_NONE = 0, POLICY_INGRESS = 1, POLICY_EGRESS = 2 };

/* Hubble's policy_match_type values. */
enum policy_match {
	POLICY_MATCH_NONE = 0,
	POLICY_MATCH_L3_ONLY = 1,
	POLICY_MATCH_L3_L4 = 2,
	POLICY_MATCH_L4_ONLY = 3,
	POLICY_MATCH_ALL = 4,
	POLICY_MATCH_L3_PROTO = 5,
	POLICY_MATCH_PROTO_ONLY = 6,
};

/* Cilium's drop reasons for policy: no rule allowed the packet (default
 * deny) vs. a deny rule matched. */
#define POLICY_DROP_DENIED 133u   /* POLICY_DENIED "Policy denied" */
#define POLICY_DROP_DENY 181u     /* POLICY_DENY "Policy denied by denylist" */

/* `kind` of the Policy objects in *_allowed_by / *_denied_by. */
#define POLICY_KIND "FlowdPolicy"

struct policy;

/* Parse and validate. On error: NULL, and err holds every problem as
 * "FILE:LINE:COLUMN: message" lines. Each successful load gets the next
 * revision number (process-wide, starting at 1). */
struct policy *policy_load_file(const char *path, char *err, size_t errlen);
struct policy *policy_load_string(const char *text, size_t len, const char *fname,
                                  char *err, size_t errlen);
struct policy *policy_ref(struct policy *p);
void policy_unref(struct policy *p);

enum policy_mode policy_mode(const struct policy *p);
enum policy_action policy_default_action(const struct policy *p);
uint64_t policy_revision(const struct policy *p);
size_t policy_rule_count(const struct policy *p);
/* Rule i (file order): name, action, direction; NULL/0 when out of range. */
const char *policy_rule_name(const struct policy *p, uint32_t i);
enum policy_action policy_rule_action(const struct policy *p, uint32_t i);
enum policy_dir policy_rule_dir(const struct policy *p, uint32_t i);
/* Does any toFQDNs selector match this name (lower case, no trailing dot)?
 * flowd recompiles the kernel maps when DNS answers such a name. */
bool policy_fqdn_relevant(const struct policy *p, const char *name);

/* The outcome of an evaluation. */
struct policy_verdict {
	enum policy_action action;
	int32_t rule;             /* deciding rule (index), -1: none (default action,
	                           * or L7 rules that did not match) */
	enum policy_dir direction;/* the deciding rule's direction; NONE without a rule */
	uint32_t match_type;      /* enum policy_match (L3/L4; 0 for L7) */
	uint32_t drop_reason;     /* when denied: POLICY_DROP_DENY (rule) or
	                           * POLICY_DROP_DENIED (no rule allowed); else 0 */
	bool l7_unmatched;        /* L7: an allow rule matched at L3/L4 but none of
	                           * its L7 rules matched the transaction */
};

/*
 * L3/L4 query: the first packet of a connection, from source to
 * destination. Labels are the endpoints' identity labels (identity.h;
 * none = world). dst_names: DNS names the destination address is known by
 * (lower case, no trailing dot) for toFQDNs.
 */
struct policy_l34_query {
	uint8_t family;                   /* 4 or 6 */
	uint8_t saddr[16], daddr[16];     /* IPv4 in the first 4 bytes */
	uint8_t proto;                    /* IPPROTO_* */
	uint16_t sport, dport;
	const char *const *src_labels;
	size_t n_src_labels;
	const char *const *dst_labels;
	size_t n_dst_labels;
	const char *const *dst_names;
	size_t n_dst_names;
};

void policy_eval_l34(const struct policy *p, const struct policy_l34_query *q,
                     struct policy_verdict *v);

/*
 * L7: an event with ev->type == FE_TYPE_L7 (HTTP, DNS or Kafka), its IP,
 * l4 and source/destination endpoints filled (identity_fill_event). The
 * connection is taken from the client's side: a response (l7.type
 * RESPONSE) is evaluated like its request. Returns 0, or -1 when the event
 * is not an L7 event with an address (v untouched).
 * Responses: HTTP header conditions and Kafka clientID are checked on
 * requests only (responses do not carry them); a response has the verdict
 * of its request otherwise.
 */
int policy_eval_l7(const struct policy *p, const struct flow_event *ev, struct policy_verdict *v);

/*
 * Write a verdict onto an event: `verdict` (FORWARDED when allowed; when
 * denied DROPPED if `dropped` - the datapath really dropped the packet -
 * else AUDIT), `drop_reason`/`drop_reason_desc` for drops,
 * `policy_match_type` (set_match_type: policy-verdict events), and the
 * deciding rule in egress_/ingress_allowed_by / _denied_by as
 * {name, kind: FlowdPolicy, revision}. Strings go to the event's arena.
 * Returns 0 or -ENOMEM.
 */
int policy_label_event(const struct policy *p, const struct policy_verdict *v,
                       struct flow_event *ev, bool dropped, bool set_match_type);

/* The L7 pipeline's one call: policy_eval_l7() + policy_label_event() with
 * dropped = false (an observer never stops a transaction: denied is AUDIT).
 * Returns 0, -EINVAL for an event policy_eval_l7() does not take, -ENOMEM. */
int policy_label_l7(const struct policy *p, struct flow_event *ev);

/* A reloadable slot (thread-safe): get() returns a reference; reload()
 * loads the file and swaps only if it is valid, else the current policy
 * stays and err says why. The slot may be empty (NULL: no policy). */
struct policy_store;
struct policy_store *policy_store_new(struct policy *initial);   /* takes the ref; may be NULL */
void policy_store_free(struct policy_store *s);
struct policy *policy_store_get(struct policy_store *s);
int policy_store_reload(struct policy_store *s, const char *path, char *err, size_t errlen);

/* --- for the BPF compiler (policy_bpf.c) ------------------------------------ */

/* The parts of a rule the L3/L4 compiler needs, read-only views into the
 * policy. */
struct policy_port_spec {
	uint8_t proto;            /* 6, 17, 132; 0 = every protocol (ANY with port 0) */
	bool any_l4;              /* ANY with a port: TCP, UDP and SCTP */
	uint16_t lo, hi;          /* port range; 0..65535 = all ports */
	uint32_t match_type;      /* enum policy_match for this spec */
	bool l3l4_ignored;        /* a deny rule's spec with L7 rules: L7 only */
};

size_t policy_rule_port_specs(const struct policy *p, uint32_t rule,
                              const struct policy_port_spec **specs);

/* Subject and peer tests, split the way the compiler indexes them:
 * selectors, entities and FQDN names here; CIDR peers through
 * policy_walk_cidrs. A rule's peer matches an address when
 * policy_rule_peer_any() or policy_rule_peer_matches_labels() holds or one
 * of its CIDRs contains the address and none of that CIDR's excepts does. */
struct ipnet;
bool policy_rule_subject_matches(const struct policy *p, uint32_t rule,
                                 const char *const *labels, size_t n_labels);
bool policy_rule_peer_any(const struct policy *p, uint32_t rule);
bool policy_rule_peer_matches_labels(const struct policy *p, uint32_t rule,
                                     const char *const *labels, size_t n_labels,
                                     const char *const *names, size_t n_names);
/* Every CIDR peer with its excepts (rule order). Stops when fn returns
 * non-zero and returns that value. */
int policy_walk_cidrs(const struct policy *p,
                      int (*fn)(void *user, uint32_t rule, const struct ipnet *net,
                                const struct ipnet *except, size_t n_except),
                      void *user);

#endif /* FLOWD_POLICY_H */
