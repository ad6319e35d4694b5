/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The packet-to-events pipeline shared by `flowctl replay` (packets from
 * libpcap) and flowd (packets from the TC payload ring): only the packet
 * source differs, so the same traffic gives the same events.
 *
 *   packet -> pkt_parse (include/pkt_parse.h) -> flow table -> per-direction
 *   TCP reassembly -> protocol detection -> l7 parser -> events -> sink
 *
 * Single-threaded; the caller drives time with the packet timestamps (replay:
 * capture time; live: receive time) and pipeline_tick().
 */
#ifndef FLOWD_PIPELINE_H
#define FLOWD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow_event.h"
#include "pkt_parse.h"

struct pipeline;
struct l7_parser_ops;
struct identity_db;
struct policy;
struct dns_cache;

struct pipeline_config {
	const char *node_name;            /* event node_name */
	bool emit_l34;                    /* emit L3/L4 flow events from the pipeline's own
	                                   * flow table (replay); flowd takes them from BPF */
	uint64_t idle_timeout_ns;         /* flow ends after this much silence */
	uint64_t active_timeout_ns;       /* long flows get an "update" event this often */
	size_t max_flows;                 /* flow table bound; beyond: counted, not tracked */
	size_t max_conn_buffer;           /* out-of-order bytes held per direction */
	size_t max_total_buffer;          /* all connections together */
	size_t dns_cache_size;            /* IP -> name entries (0: no names) */
	uint32_t dns_min_ttl_s;           /* names live at least this long (like
	                                   * Cilium's tofqdns-min-ttl) */
	/* A DNS cache shared with others (flowd: one per host, for every
	 * interface's pipeline and its L3/L4 events), borrowed: it must
	 * outlive the pipeline, and its counters are its owner's to report.
	 * NULL: the pipeline keeps its own (dns_cache_size, dns_min_ttl_s). */
	struct dns_cache *dns_cache;
	size_t max_header_bytes;          /* per L7 message (struct l7_config) */
	size_t max_pending;               /* unanswered requests per connection */
	const char *const *redact_headers;
	size_t n_redact_headers;
	/* Parts of events no consumer reads (replay: the field mask leaves
	 * them out and no filter or policy looks at them): not built. */
	bool no_summary;                  /* Summary of L7 events stays empty */
	bool no_names;                    /* source_names / destination_names stay empty */
	bool no_http_headers;             /* l7.http.headers stays empty */
	bool no_uuid;                     /* uuid stays empty (its sequence number is
	                                   * still taken: the others do not move) */
	uint64_t uuid_seed;               /* event uuids derive from seed + sequence:
	                                   * replay output is deterministic */
	/* Parsers to detect (tests, fuzzing; one per enum l7_proto); NULL: every
	 * parser linked in (l7_parser_by_proto). */
	const struct l7_parser_ops *const *parsers;
	size_t n_parsers;
	/* Early filter: see pipeline_want_fn below. NULL: every event. */
	bool (*want)(void *user, const struct flow_event *ev);
	/* The early filter rejects every L3/L4 event: do not build them (they
	 * still take their uuid sequence numbers, so uuids do not depend on
	 * the filters). */
	bool l34_unwanted;
	/* Enrichment; NULL: none. Owned by the caller: they must stay valid
	 * until pipeline_free(). (flowd enriches its live events in its sink.)
	 * identities: every event's source/destination endpoint (identity.h).
	 * policy (policy.h): L7 events get policy_label_l7() (a denied
	 * transaction is AUDIT); L3/L4 events (emit_l34) the verdict of their
	 * connection (policy_event.h: denied is AUDIT, nothing was dropped),
	 * and each connection's first flow a policy-verdict event before its
	 * start event. Without identities a policy sees every address as world. */
	const struct identity_db *identities;
	const struct policy *policy;
};

void pipeline_config_defaults(struct pipeline_config *cfg);

/* Receives every event in order; takes ownership of ev (flow_event_free). */
typedef void (*pipeline_sink_fn)(void *user, struct flow_event *ev);

/* Optional early filter (pipeline_config.want), called with the sink's
 * user pointer once uuid and names are set, before the Summary is built:
 * false drops the event (counted). Events keep their uuids either way. */
typedef bool (*pipeline_want_fn)(void *user, const struct flow_event *ev);

struct pipeline *pipeline_new(const struct pipeline_config *cfg,
                              pipeline_sink_fn sink, void *user);
void pipeline_free(struct pipeline *p);

/* One frame. frame/caplen: captured bytes starting at the L3 or L2 header
 * already parsed into *pi (by pkt_parse_eth / pkt_parse_l3); wire_len: the
 * original length (for byte counters). ifindex/ifname/direction: where it
 * was seen (0/NULL/INGRESS in replay). Returns 0, or -1 on OOM (counted). */
int pipeline_packet(struct pipeline *p, uint64_t ts_ns, const struct pkt_info *pi,
                    const uint8_t *frame, uint32_t caplen, uint32_t wire_len,
                    uint32_t ifindex, const char *ifname, uint8_t direction);

/* A frame pkt_parse rejected (status >= PKT_ERR_FIRST) or that is not IP:
 * counted per reason, no flow. */
void pipeline_parse_error(struct pipeline *p, int status);

/* Advance time without a packet: timeouts fire. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);

/* End of input: close every connection (parsers flush), end every flow. */
void pipeline_flush(struct pipeline *p, uint64_t now_ns);

/* Counters by name, in a stable order; for `flowctl status`, replay
 * --stats and the README. Returns the number of entries. */
struct pipeline_counter { const char *name; uint64_t value; };
size_t pipeline_counters(const struct pipeline *p, struct pipeline_counter *out, size_t max);

#endif /* FLOWD_PIPELINE_H */
