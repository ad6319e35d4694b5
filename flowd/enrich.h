/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What flowd adds to the kernel's flow records: identities (--identities,
 * lib/identity.h; host and world without a file), the policy (--policy,
 * lib/policy.h: compiled into the datapath's maps, the kernel's per-flow
 * result turned into verdicts and policy-verdict events) and conntrack/NAT
 * (lib/conntrack.h: IP.source_xlated, flow.conntrack, TRANSLATED events).
 *
 * Reloads (SIGHUP, `flowctl policy load`) read and compile everything
 * first and swap only when all of it is valid; on any error the running
 * identities and policy stay and the reason is logged. The policy before
 * the current one is kept so that flows decided under it still name their
 * rules.
 */
#ifndef FLOWD_ENRICH_H
#define FLOWD_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "flow_event.h"
#include "flow_record.h"
#include "flowd.h"

struct enrich;
struct policy_bpf_maps;
struct flowd_counter;

/* Load the identities and policy files (every problem of both in e, one
 * per line) and open conntrack (without it: a notice, and no NAT
 * enrichment). */
int enrich_open(const struct flowd_config *cfg, struct enrich **out, struct flowd_err *e);
void enrich_close(struct enrich *en);

/* The datapath's policy maps exist (before its programs are attached):
 * compile the policy into them, so no packet passes unjudged. */
int enrich_maps_ready(struct enrich *en, const struct policy_bpf_maps *m, struct flowd_err *e);

/* Reload the identities file and the policy (policy_file: another file
 * to load from now on; NULL: the configured one). 0, or -1 with every
 * problem in err ("FILE:LINE:COL: ..." lines); nothing changed then. */
int enrich_reload(struct enrich *en, const char *policy_file, char *err, size_t errlen);

/* Conntrack events: poll this fd (-1: none) and call enrich_process(). */
int enrich_fd(const struct enrich *en);
void enrich_process(struct enrich *en);
/* Before each read of the flow table: pending conntrack events, and a
 * recompile when DNS taught new addresses of toFQDNs names (at most once
 * a second). now_ns: CLOCK_MONOTONIC. */
void enrich_tick(struct enrich *en, uint64_t now_ns);

/* An L3/L4 event of flow key/rec: DNS names, endpoints, conntrack, the
 * flow's policy verdict. */
void enrich_l34(struct enrich *en, struct flow_event *ev, const struct flow_key *key,
                const struct flow_rec *rec);
/* Make ev (a second start event of the flow) its policy-verdict event.
 * false: the flow has none (no policy, a reply, exempt traffic). */
bool enrich_policy_verdict(struct enrich *en, struct flow_event *ev, const struct flow_key *key,
                           const struct flow_rec *rec);
/* Make ev (a second start event of the flow) the TRANSLATED event of a
 * connection whose destination conntrack translated (DNAT), for its first
 * flow seen before the translation. false: none. */
bool enrich_translated(struct enrich *en, struct flow_event *ev, const struct flow_key *key);

/* The host's DNS names (l7/dns_cache.h), learnt by the live pipelines of
 * every interface (pipeline_config.dns_cache) and given to L3/L4 events
 * as source_names / destination_names, as replay does. Owned by en. */
struct dns_cache;
struct dns_cache *enrich_dns_cache(struct enrich *en);

/* L7 events (the live pipeline): endpoints and the policy's L7 verdict. */
void enrich_l7(struct enrich *en, struct flow_event *ev);
/* A DNS response event: addresses of names a toFQDNs rule names are
 * remembered and compiled into the maps (enrich_tick). */
void enrich_dns_answer(struct enrich *en, const struct flow_event *ev);

/* The socket API's "policy_load" request (an api_command_fn, api_server.h;
 * user: the struct enrich): {"request":"policy_load","file":"/abs/path"}
 * loads FILE as the policy from now on, with the identities file again;
 * from root or flowd's own user only. Answers one JSON line: the new
 * revision, or {"error":...} with every problem, the running policy
 * kept. */
struct fe_buf;
int enrich_api_command(void *user, const char *name, const char *request, uid_t peer_uid,
                       struct fe_buf *out);

/* Counters (README "Counters"): appended to out from index n. */
size_t enrich_counters(const struct enrich *en, struct flowd_counter *out, size_t n, size_t max);

#endif /* FLOWD_ENRICH_H */
