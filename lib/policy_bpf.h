/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Policy -> kernel maps (include/policy_maps.h): the compiler, its user-space
 * twin of the BPF lookup, and the atomic swap into the maps of a loaded BPF
 * object.
 *
 *   c = policy_compile(policy, identities, &opts, err, len);   // pure
 *   policy_compiled_lookup(c, ...);        // same answer as the kernel
 *   pb = policy_bpf_open(&maps);           // maps of the XDP/TC object
 *   policy_bpf_apply(pb, c, err, len);     // fill the idle set, flip
 *
 * Compiling is separate from applying so that a reload can be refused before
 * anything in the kernel changes (a policy too big for the maps is an error
 * of the compile step).
 */
#ifndef FLOWD_POLICY_BPF_H_USER
#define FLOWD_POLICY_BPF_H_USER

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "policy.h"
#include "policy_maps.h"

/* A DNS answer known to the observer: addr was given for name (lower case,
 * no trailing dot). Feeds toFQDNs peers. */
struct policy_fqdn_ip {
	uint8_t family;
	uint8_t addr[16];
	const char *name;
};

struct policy_compile_opts {
	size_t max_addr_entries;   /* 0: POLICY_ADDR_MAX_ENTRIES */
	size_t max_rule_entries;   /* 0: POLICY_RULE_MAX_ENTRIES */
	const struct policy_fqdn_ip *fqdn_ips;
	size_t n_fqdn_ips;
};

struct policy_compiled;

struct policy_compile_stats {
	size_t prefixes;           /* distinct prefixes of identities, rules, FQDN IPs */
	size_t addr_entries;       /* after dropping prefixes that add nothing */
	size_t rule_entries;
	size_t subject_classes;    /* distinct non-empty subject rule sets */
	size_t peer_classes;
};

/* NULL on error (err says why: too many entries, out of memory). The
 * compiled form keeps references to neither p nor ids. */
struct policy_compiled *policy_compile(const struct policy *p, const struct identity_db *ids,
                                       const struct policy_compile_opts *opts,
                                       char *err, size_t errlen);
void policy_compiled_free(struct policy_compiled *c);
void policy_compiled_stats(const struct policy_compiled *c, struct policy_compile_stats *st);

/* Exactly what policy_lookup_tuple() in policy.bpf.h computes from the
 * maps this compiled form fills. */
void policy_compiled_lookup(const struct policy_compiled *c, uint8_t family, const uint8_t saddr[16],
                            const uint8_t daddr[16], uint8_t proto, uint16_t dport,
                            struct policy_result *res);

/* Map file descriptors of an object that includes policy.bpf.h. */
struct policy_bpf_maps {
	int state, meta, addr[2], rules[2], counters;
};

struct bpf_object;
/* Find the maps by name. 0, or -ENOENT naming the missing map in err. */
int policy_bpf_maps_from_obj(struct bpf_object *obj, struct policy_bpf_maps *m,
                             char *err, size_t errlen);

/* Make a second object (the TC one, after the XDP one) use the same policy
 * maps: call between its open and its load. 0 or a negative errno. */
int policy_bpf_reuse_maps(struct bpf_object *obj, const struct policy_bpf_maps *m,
                          char *err, size_t errlen);

struct policy_bpf;
struct policy_bpf *policy_bpf_open(const struct policy_bpf_maps *m);
void policy_bpf_close(struct policy_bpf *pb);

/* Make c the policy of every packet from now on: clear and fill the idle
 * set, write its meta, flip the state. On error (map full, ...) the active
 * set is untouched and err says why. Returns 0 or a negative errno. */
int policy_bpf_apply(struct policy_bpf *pb, const struct policy_compiled *c, char *err, size_t errlen);
/* No policy: packets get verdict NONE. */
int policy_bpf_clear(struct policy_bpf *pb);
/* Sum of policy_counters over CPUs. */
int policy_bpf_counters(struct policy_bpf *pb, uint64_t out[POLICY_CNT_MAX]);
/* Name of a counter ("drop_policy_denied", ...), for status output. */
const char *policy_counter_name(int idx);

/* Turn a kernel result into the verdict lib/policy.h labels events with. */
void policy_result_to_verdict(const struct policy_result *r, struct policy_verdict *v);

/*
 * Events from a kernel result (r from the flow's record), for flowd:
 *
 * policy_verdict_event(): make ev - an L3/L4 event of the flow's first
 * packet (flow_l34_event(..., FE_STATS_START, ...)) - into the
 * policy-verdict event Hubble emits for it: event_type 5, verdict
 * (FORWARDED / DROPPED / AUDIT), drop_reason(_desc) for drops,
 * policy_match_type, traffic_direction of the deciding rule, is_reply false
 * (absent for drops), the rule in *_allowed_by / *_denied_by, and no
 * flow_stats. p must be the policy of r->revision for rule names (pass the
 * previous policy after a reload, or NULL: names are left out).
 *
 * policy_label_flow(): the flow's ordinary L3/L4 events get its verdict and
 * drop reason (not the rule, not the match type); a dropped flow's events
 * become drop events (event_type 1, sub_type the drop reason), as Hubble
 * reports dropped packets.
 *
 * Both return 0, -ENOMEM, or -EINVAL when r carries no policy verdict.
 */
int policy_verdict_event(const struct policy *p, const struct policy_result *r, struct flow_event *ev);
int policy_label_flow(const struct policy_result *r, struct flow_event *ev);

#endif /* FLOWD_POLICY_BPF_H_USER */
