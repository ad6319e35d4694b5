/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Names of Hubble's enums and of Cilium's monitor codes, shared by the JSON
 * encoder/decoder, the text printers and the filters, so every place spells
 * a value the same way (../shared/reference/hubble.md §2).
 *
 * An enum table maps proto numbers to the names protojson prints. Lookups
 * are linear: the tables are short and the hot path (JSON encoding) only
 * goes from value to name through small dense arrays.
 */
#ifndef FLOWD_FLOW_NAMES_H
#define FLOWD_FLOW_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fe_enum_entry {
	uint32_t value;
	const char *name;
	const char *text;                 /* human text where Cilium has one */
};

struct fe_enum {
	const char *type_name;            /* proto name, e.g. "Verdict" (for errors) */
	const struct fe_enum_entry *entries;
	size_t n;
};

/* Proto enums, values as in flow.proto. */
extern const struct fe_enum fe_enum_verdict;           /* FORWARDED, DROPPED, ... */
extern const struct fe_enum fe_enum_flow_type;         /* L3_L4, L7, SOCK */
extern const struct fe_enum fe_enum_l7_type;           /* REQUEST, RESPONSE, SAMPLE */
extern const struct fe_enum fe_enum_traffic_direction; /* INGRESS, EGRESS */
extern const struct fe_enum fe_enum_ip_version;        /* IPv4, IPv6 */
extern const struct fe_enum fe_enum_lost_source;       /* PERF_EVENT_RING_BUFFER, ... */
extern const struct fe_enum fe_enum_trace_point;       /* TraceObservationPoint */
extern const struct fe_enum fe_enum_trace_reason;      /* NEW, ESTABLISHED, ... */
extern const struct fe_enum fe_enum_drop_reason;       /* DropReason: POLICY_DENIED, ... */
extern const struct fe_enum fe_enum_auth_type;         /* DISABLED, SPIRE, ... */
extern const struct fe_enum fe_enum_debug_capture;     /* DebugCapturePoint */
extern const struct fe_enum fe_enum_sock_xlate;        /* SocketTranslationPoint */

/* Name of value, or NULL when the table has none (protojson then prints
 * the number). */
const char *fe_enum_name(const struct fe_enum *e, uint32_t value);
/* Value of name (exact, or ASCII case-insensitive when nocase). 0 on
 * success, -1 when unknown. */
int fe_enum_value(const struct fe_enum *e, const char *name, bool nocase, uint32_t *value);

/* Cilium monitor texts (pkg/monitor/api), used by the compact/dict/table
 * TYPE column. */
/* Drop reason text ("Policy denied"; also Cilium's non-drop codes 0-15,
 * e.g. 0 "Success"); NULL for an unknown code. */
const char *fe_drop_reason_text(uint32_t code);
/* Datapath observation point code (event_type.sub_type of a trace) ->
 * "to-endpoint", "from-network", ...; NULL for an unknown code. */
const char *fe_trace_point_text(uint32_t datapath_code);
/* policy_match_type -> "L3-Only", "all", ..., "unknown". */
const char *fe_policy_match_text(uint32_t match);
/* Reserved security identity name ("host", "world", ...); NULL if the
 * identity is not reserved. Identity 0 is "unknown" as in Cilium. */
const char *fe_reserved_identity_name(uint32_t identity);
/* Inverse, for --identity values given by name; -1 when unknown. */
int fe_reserved_identity_value(const char *name, uint32_t *identity);

/* Monitor message types (event_type.type) and their CLI names. */
enum fe_monitor_type {
	FE_MSG_DROP = 1, FE_MSG_DEBUG = 2, FE_MSG_CAPTURE = 3, FE_MSG_TRACE = 4,
	FE_MSG_POLICY_VERDICT = 5, FE_MSG_TRACE_SOCK = 7, FE_MSG_ACCESS_LOG = 129,
	FE_MSG_AGENT = 130,
};
/* "drop", "trace", "l7", ...; NULL for an unknown type. */
const char *fe_monitor_type_name(uint32_t type);
int fe_monitor_type_value(const char *name, uint32_t *type);

/* gopacket's names of ICMP types/codes, exactly as Hubble's Summary uses
 * them: "EchoRequest", "DestinationUnreachable(Host)", "Redirect(Code: 9)",
 * "143(0)". Writes into buf (NUL-terminated, truncated to size). */
void fe_icmpv4_text(uint32_t type, uint32_t code, char *buf, size_t size);
void fe_icmpv6_text(uint32_t type, uint32_t code, char *buf, size_t size);

/* gopacket's DNSResponseCode text ("Non-Existent Domain", "Unknown").
 * "Server Failure " keeps gopacket's trailing space on purpose. */
const char *fe_dns_rcode_text(uint32_t rcode);

#endif /* FLOWD_FLOW_NAMES_H */
