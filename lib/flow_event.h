/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event model: one Hubble `GetFlowsResponse` (a flow or a lost-events
 * notice) as a C struct. Everything that produces events (flowd's map poller,
 * the L7 pipeline) fills one of these; everything that consumes them (JSON
 * encoder, compact/dict/table printers, the filter engine, the observer ring,
 * the exporter) reads it. The JSON form is ../shared/reference/hubble.md §1.
 *
 * Ownership: an event owns an arena; every string and array hanging off the
 * event is allocated from it with fe_strdup()/fe_alloc() and freed with the
 * event. Pointers in a struct flow_event never point outside its arena (or
 * to string literals).
 */
#ifndef FLOWD_FLOW_EVENT_H
#define FLOWD_FLOW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Enums: values are Hubble's proto numbers; JSON prints the names. */
enum fe_verdict {
	FE_VERDICT_UNKNOWN = 0, FE_FORWARDED = 1, FE_DROPPED = 2, FE_ERROR = 3,
	FE_AUDIT = 4, FE_REDIRECTED = 5, FE_TRACED = 6, FE_TRANSLATED = 7,
};
enum fe_flow_type { FE_TYPE_UNKNOWN = 0, FE_TYPE_L3_L4 = 1, FE_TYPE_L7 = 2, FE_TYPE_SOCK = 3 };
enum fe_l7_type { FE_L7_UNKNOWN = 0, FE_L7_REQUEST = 1, FE_L7_RESPONSE = 2, FE_L7_SAMPLE = 3 };
enum fe_traffic_direction { FE_DIR_UNKNOWN = 0, FE_INGRESS = 1, FE_EGRESS = 2 };
enum fe_ip_version { FE_IP_NOT_USED = 0, FE_IPV4 = 1, FE_IPV6 = 2 };
enum fe_lost_source {
	FE_LOST_UNKNOWN = 0, FE_LOST_PERF_EVENT_RING_BUFFER = 1,
	FE_LOST_OBSERVER_EVENTS_QUEUE = 2, FE_LOST_HUBBLE_RING_BUFFER = 3,
};
/* Which member of the `l4` oneof is set. */
enum fe_l4_kind { FE_L4_NONE = 0, FE_L4_TCP, FE_L4_UDP, FE_L4_ICMPV4, FE_L4_ICMPV6, FE_L4_SCTP };
/* Which member of the `l7` oneof is set. */
enum fe_l7_kind { FE_L7K_NONE = 0, FE_L7K_DNS, FE_L7K_HTTP, FE_L7K_KAFKA };
/* flow_stats.event */
enum fe_stats_event { FE_STATS_NONE = 0, FE_STATS_START, FE_STATS_UPDATE, FE_STATS_END };

/* TCP flags: same bits as enum flow_tcp_flag in include/flow_record.h. */

struct fe_workload { const char *name, *kind; };

struct fe_endpoint {
	uint32_t id;              /* JSON "ID" */
	uint32_t identity;
	const char *cluster_name;
	const char *namespace_;   /* JSON "namespace" */
	const char **labels;      /* sorted, "source:key=value" */
	size_t n_labels;
	const char *pod_name;
	struct fe_workload *workloads;
	size_t n_workloads;
};

struct fe_service { const char *name, *namespace_; };

struct fe_policy {
	const char *name, *namespace_, *kind;
	const char **labels;
	size_t n_labels;
	uint64_t revision;
};

struct fe_http_header { const char *key, *value; };

struct fe_http {
	uint32_t code;            /* responses only */
	const char *method;
	const char *url;
	const char *protocol;     /* "HTTP/1.1", "HTTP/2", ... */
	struct fe_http_header *headers;  /* sorted by key, canonical case */
	size_t n_headers;
};

struct fe_dns {
	const char *query;        /* with trailing dot */
	const char **ips;
	size_t n_ips;
	uint32_t ttl;
	const char **cnames;
	size_t n_cnames;
	const char *observation_source;
	uint32_t rcode;
	const char **qtypes;
	size_t n_qtypes;
	const char **rrtypes;
	size_t n_rrtypes;
};

struct fe_kafka {
	int32_t error_code;
	int32_t api_version;
	const char *api_key;      /* lower case name, e.g. "produce" */
	int32_t correlation_id;
	const char *topic;
	/* flowd-internal, not in Hubble's schema (never printed): the request
	 * header's client_id, kept for filters and policy. NULL when absent. */
	const char *client_id;
};

struct fe_l7 {
	enum fe_l7_type type;
	uint64_t latency_ns;
	enum fe_l7_kind kind;
	union {
		struct fe_dns dns;
		struct fe_http http;
		struct fe_kafka kafka;
	};
};

/*
 * flowd extension `flow.l7_info` (Hubble has no such fields; documented in
 * the README). Emitted only when something is non-zero.
 */
struct fe_l7_info {
	uint64_t gap_bytes;         /* bytes missing (capture/ring loss) inside this message */
	uint32_t messages;          /* gRPC/streaming: messages in this direction of the call */
	uint32_t unknown_headers;   /* HTTP/2 header fields not recoverable (joined mid-stream) */
	bool truncated;             /* message ended early (RST, FIN, end of capture) */
};

/* flowd extension `flow.flow_stats`: counters of one directional flow. */
struct fe_flow_stats {
	enum fe_stats_event event;  /* FE_STATS_NONE: object absent */
	uint64_t packets;
	uint64_t bytes;
	uint64_t first_seen_ns;     /* ns since the epoch */
	uint64_t last_seen_ns;
};

struct fe_arena;

struct flow_event {
	struct fe_arena *arena;

	uint64_t time_ns;                 /* ns since the epoch */
	char uuid[37];                    /* "" = absent */
	enum fe_verdict verdict;
	uint32_t drop_reason;
	bool has_ethernet;
	char eth_src[18], eth_dst[18];
	bool has_ip;
	char ip_src[46], ip_src_xlated[46], ip_dst[46];
	enum fe_ip_version ip_version;
	bool encrypted;
	enum fe_l4_kind l4;
	uint16_t sport, dport;            /* TCP/UDP/SCTP */
	uint16_t tcp_flags;               /* TCP: enum flow_tcp_flag bits; 0 = no "flags" key */
	uint32_t icmp_type, icmp_code;    /* ICMPv4/v6 */
	struct fe_endpoint source, destination;
	enum fe_flow_type type;
	const char *node_name;
	const char **source_names;
	size_t n_source_names;
	const char **destination_names;
	size_t n_destination_names;
	struct fe_l7 l7;                  /* iff type == FE_TYPE_L7 */
	bool reply;                       /* deprecated `reply`, printed only when true */
	uint32_t event_type, event_sub_type;
	struct fe_service source_service, destination_service;
	enum fe_traffic_direction traffic_direction;
	uint32_t policy_match_type;
	uint32_t trace_observation_point; /* enum value; 0 = absent */
	uint32_t trace_reason;            /* enum value; 0 = absent */
	uint32_t drop_reason_desc;        /* DropReason enum value; 0 = absent */
	int8_t is_reply;                  /* -1 unknown (absent), 0 false, 1 true */
	uint32_t ifindex;                 /* `interface`, absent when both are empty */
	const char *ifname;
	const char *summary;
	struct fe_policy *egress_allowed_by, *ingress_allowed_by, *egress_denied_by, *ingress_denied_by;
	size_t n_egress_allowed_by, n_ingress_allowed_by, n_egress_denied_by, n_ingress_denied_by;
	struct fe_flow_stats stats;       /* extension, after Summary and policies */
	struct fe_l7_info l7_info;        /* extension */
	/* extension `flow.conntrack`: one JSON object, as lib/conntrack.c's
	 * ct_entry_json() writes it (README "Conntrack and NAT"); NULL = absent */
	const char *conntrack_json;

	/* Hubble fields flowd does not fill itself; kept so that Hubble's own
	 * output (`flowctl observe --input-file`) decodes, filters, prints and
	 * re-encodes unchanged. All zero/NULL = absent. */
	const char *emitter_name, *emitter_version;  /* `emitter` */
	uint32_t auth_type;               /* AuthType enum value */
	const char **node_labels;
	size_t n_node_labels;
	const char *file_name;            /* `file` {name, line}: BPF source of a drop */
	uint32_t file_line;
	uint64_t ip_trace_id;             /* `ip_trace_id.trace_id`; 0 = absent */
	uint32_t ip_option_type;          /* `ip_trace_id.ip_option_type` */
	uint32_t debug_capture_point;     /* DebugCapturePoint enum value */
	uint32_t proxy_port;
	const char *trace_parent_id;      /* `trace_context.parent.trace_id` */
	uint32_t sock_xlate_point;        /* SocketTranslationPoint enum value */
	uint64_t socket_cookie, cgroup_id;
	const char **policy_log;
	size_t n_policy_log;
};

struct fe_lost_event {
	enum fe_lost_source source;
	uint64_t num_events_lost;
	int32_t cpu;                      /* -1 = absent */
	uint64_t first_ns, last_ns;       /* 0 = absent */
};

/* One line of the stream: a flow or a lost-events notice. */
enum fe_record_kind { FE_REC_FLOW = 1, FE_REC_LOST = 2 };
struct fe_record {
	enum fe_record_kind kind;
	const struct flow_event *flow;    /* FE_REC_FLOW; the wrapper's node_name/time come from it */
	struct fe_lost_event lost;        /* FE_REC_LOST */
	const char *node_name;            /* wrapper node_name for lost events */
	uint64_t time_ns;                 /* wrapper time for lost events */
};

/* Lifecycle. flow_event_new() returns a zeroed event with its own arena and
 * is_reply = -1; NULL on allocation failure. */
struct flow_event *flow_event_new(void);
void flow_event_free(struct flow_event *ev);

/* Arena allocation: freed with the event. NULL on allocation failure. */
void *fe_alloc(struct flow_event *ev, size_t size);           /* zeroed */
const char *fe_strdup(struct flow_event *ev, const char *s);
const char *fe_strndup(struct flow_event *ev, const char *s, size_t n);
const char *fe_printf(struct flow_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies of the n strings of src (n > 0), array included; NULL on failure. */
const char **fe_strv(struct flow_event *ev, const char *const *src, size_t n);

/* Fill ev->summary the way Hubble's parser writes it (hubble.md §1.5) from
 * the l4 / l7 fields already set. */
int fe_set_summary(struct flow_event *ev);

/* Growable output buffer. */
struct fe_buf {
	char *data;
	size_t len, cap;
};
void fe_buf_free(struct fe_buf *b);

/* Append one NDJSON line (with '\n') in Hubble's exact protojson style:
 * key spelling, declaration order, zero-value omission, enum names,
 * 64-bit ints as strings, RFC 3339 times, Go's string escaping. */
int fe_record_to_json(const struct fe_record *rec, struct fe_buf *out);

#endif /* FLOWD_FLOW_EVENT_H */
