/* SPDX-License-Identifier: BSD-2-Clause */
/* Enum names and Cilium monitor texts (see flow_names.h). Values and
 * spellings follow flow.proto, pkg/monitor/api and gopacket/layers. */
#include "flow_names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ENUM(var, tname, ...)                                                   \
	static const struct fe_enum_entry var##_entries[] = { __VA_ARGS__ };    \
	const struct fe_enum var = { tname, var##_entries,                      \
		sizeof(var##_entries) / sizeof(var##_entries[0]) }

ENUM(fe_enum_verdict, "Verdict",
	{ 0, "VERDICT_UNKNOWN", NULL }, { 1, "FORWARDED", NULL }, { 2, "DROPPED", NULL }, { 3, "ERROR", NULL },
	{ 4, "AUDIT", NULL }, { 5, "REDIRECTED", NULL }, { 6, "TRACED", NULL }, { 7, "TRANSLATED", NULL });

ENUM(fe_enum_flow_type, "FlowType",
	{ 0, "UNKNOWN_TYPE", NULL }, { 1, "L3_L4", NULL }, { 2, "L7", NULL }, { 3, "SOCK", NULL });

ENUM(fe_enum_l7_type, "L7FlowType",
	{ 0, "UNKNOWN_L7_TYPE", NULL }, { 1, "REQUEST", NULL }, { 2, "RESPONSE", NULL }, { 3, "SAMPLE", NULL });

ENUM(fe_enum_traffic_direction, "TrafficDirection",
	{ 0, "TRAFFIC_DIRECTION_UNKNOWN", NULL }, { 1, "INGRESS", NULL }, { 2, "EGRESS", NULL });

ENUM(fe_enum_ip_version, "IPVersion",
	{ 0, "IP_NOT_USED", NULL }, { 1, "IPv4", NULL }, { 2, "IPv6", NULL });

ENUM(fe_enum_lost_source, "LostEventSource",
	{ 0, "UNKNOWN_LOST_EVENT_SOURCE", NULL }, { 1, "PERF_EVENT_RING_BUFFER", NULL },
	{ 2, "OBSERVER_EVENTS_QUEUE", NULL }, { 3, "HUBBLE_RING_BUFFER", NULL });

ENUM(fe_enum_trace_point, "TraceObservationPoint",
	{ 0, "UNKNOWN_POINT", NULL }, { 1, "TO_PROXY", NULL }, { 2, "TO_HOST", NULL }, { 3, "TO_STACK", NULL },
	{ 4, "TO_OVERLAY", NULL }, { 101, "TO_ENDPOINT", NULL }, { 5, "FROM_ENDPOINT", NULL },
	{ 6, "FROM_PROXY", NULL }, { 7, "FROM_HOST", NULL }, { 8, "FROM_STACK", NULL }, { 9, "FROM_OVERLAY", NULL },
	{ 10, "FROM_NETWORK", NULL }, { 11, "TO_NETWORK", NULL }, { 12, "FROM_CRYPTO", NULL }, { 13, "TO_CRYPTO", NULL });

ENUM(fe_enum_trace_reason, "TraceReason",
	{ 0, "TRACE_REASON_UNKNOWN", NULL }, { 1, "NEW", NULL }, { 2, "ESTABLISHED", NULL }, { 3, "REPLY", NULL },
	{ 4, "RELATED", NULL }, { 5, "REOPENED", NULL }, { 6, "SRV6_ENCAP", NULL }, { 7, "SRV6_DECAP", NULL },
	{ 8, "ENCRYPT_OVERLAY", NULL });

ENUM(fe_enum_auth_type, "AuthType",
	{ 0, "DISABLED", NULL }, { 1, "SPIRE", NULL }, { 2, "TEST_ALWAYS_FAIL", NULL });

ENUM(fe_enum_debug_capture, "DebugCapturePoint",
	{ 0, "DBG_CAPTURE_POINT_UNKNOWN", NULL }, { 4, "DBG_CAPTURE_DELIVERY", NULL },
	{ 5, "DBG_CAPTURE_FROM_LB", NULL }, { 6, "DBG_CAPTURE_AFTER_V46", NULL },
	{ 7, "DBG_CAPTURE_AFTER_V64", NULL }, { 8, "DBG_CAPTURE_PROXY_PRE", NULL },
	{ 9, "DBG_CAPTURE_PROXY_POST", NULL }, { 10, "DBG_CAPTURE_SNAT_PRE", NULL },
	{ 11, "DBG_CAPTURE_SNAT_POST", NULL });

ENUM(fe_enum_sock_xlate, "SocketTranslationPoint",
	{ 0, "SOCK_XLATE_POINT_UNKNOWN", NULL }, { 1, "SOCK_XLATE_POINT_PRE_DIRECTION_FWD", NULL },
	{ 2, "SOCK_XLATE_POINT_POST_DIRECTION_FWD", NULL }, { 3, "SOCK_XLATE_POINT_PRE_DIRECTION_REV", NULL },
	{ 4, "SOCK_XLATE_POINT_POST_DIRECTION_REV", NULL });

/* DropReason: enum name and Cilium's monitor text (pkg/monitor/api/drop.go). */
ENUM(fe_enum_drop_reason, "DropReason",
	{ 0, "DROP_REASON_UNKNOWN", "Success" },
	{ 130, "INVALID_SOURCE_MAC", "Invalid source mac" },
	{ 131, "INVALID_DESTINATION_MAC", "Invalid destination mac" },
	{ 132, "INVALID_SOURCE_IP", "Invalid source ip" },
	{ 133, "POLICY_DENIED", "Policy denied" },
	{ 134, "INVALID_PACKET_DROPPED", "Invalid packet" },
	{ 135, "CT_TRUNCATED_OR_INVALID_HEADER", "CT: Truncated or invalid header" },
	{ 136, "CT_MISSING_TCP_ACK_FLAG", "Fragmentation needed" },
	{ 137, "CT_UNKNOWN_L4_PROTOCOL", "CT: Unknown L4 protocol" },
	{ 138, "CT_CANNOT_CREATE_ENTRY_FROM_PACKET", "CT: Can't create entry from packet" },
	{ 139, "UNSUPPORTED_L3_PROTOCOL", "Unsupported L3 protocol" },
	{ 140, "MISSED_TAIL_CALL", "Missed tail call" },
	{ 141, "ERROR_WRITING_TO_PACKET", "Error writing to packet" },
	{ 142, "UNKNOWN_L4_PROTOCOL", "Unknown L4 protocol" },
	{ 143, "UNKNOWN_ICMPV4_CODE", "Unknown ICMPv4 code" },
	{ 144, "UNKNOWN_ICMPV4_TYPE", "Unknown ICMPv4 type" },
	{ 145, "UNKNOWN_ICMPV6_CODE", "Unknown ICMPv6 code" },
	{ 146, "UNKNOWN_ICMPV6_TYPE", "Unknown ICMPv6 type" },
	{ 147, "ERROR_RETRIEVING_TUNNEL_KEY", "Error retrieving tunnel key" },
	{ 148, "ERROR_RETRIEVING_TUNNEL_OPTIONS", "Error retrieving tunnel options" },
	{ 149, "INVALID_GENEVE_OPTION", "Invalid Geneve option" },
	{ 150, "UNKNOWN_L3_TARGET_ADDRESS", "Unknown L3 target address" },
	{ 151, "STALE_OR_UNROUTABLE_IP", "Stale or unroutable IP" },
	{ 152, "NO_MATCHING_LOCAL_CONTAINER_FOUND", "No matching local container found" },
	{ 153, "ERROR_WHILE_CORRECTING_L3_CHECKSUM", "Error while correcting L3 checksum" },
	{ 154, "ERROR_WHILE_CORRECTING_L4_CHECKSUM", "Error while correcting L4 checksum" },
	{ 155, "CT_MAP_INSERTION_FAILED", "CT: Map insertion failed" },
	{ 156, "INVALID_IPV6_EXTENSION_HEADER", "Invalid IPv6 extension header" },
	{ 157, "IP_FRAGMENTATION_NOT_SUPPORTED", "IP fragmentation not supported" },
	{ 158, "SERVICE_BACKEND_NOT_FOUND", "Service backend not found" },
	{ 160, "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT", "No tunnel/encapsulation endpoint (datapath BUG!)" },
	{ 161, "FAILED_TO_INSERT_INTO_PROXYMAP", "NAT 46/64 not enabled" },
	{ 162, "REACHED_EDT_RATE_LIMITING_DROP_HORIZON", "Reached EDT rate-limiting drop horizon" },
	{ 163, "UNKNOWN_CONNECTION_TRACKING_STATE", "Unknown connection tracking state" },
	{ 164, "LOCAL_HOST_IS_UNREACHABLE", "Local host is unreachable" },
	{ 165, "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
	  "No configuration available to perform policy decision" },
	{ 166, "UNSUPPORTED_L2_PROTOCOL", "Unsupported L2 protocol" },
	{ 167, "NO_MAPPING_FOR_NAT_MASQUERADE", "No mapping for NAT masquerade" },
	{ 168, "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE", "Unsupported protocol for NAT masquerade" },
	{ 169, "FIB_LOOKUP_FAILED", "FIB lookup failed" },
	{ 170, "ENCAPSULATION_TRAFFIC_IS_PROHIBITED", "Encapsulation traffic is prohibited" },
	{ 171, "INVALID_IDENTITY", "Invalid identity" },
	{ 172, "UNKNOWN_SENDER", "Unknown sender" },
	{ 173, "NAT_NOT_NEEDED", "NAT not needed" },
	{ 174, "IS_A_CLUSTERIP", "Is a ClusterIP" },
	{ 175, "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", "First logical datagram fragment not found" },
	{ 176, "FORBIDDEN_ICMPV6_MESSAGE", "Forbidden ICMPv6 message" },
	{ 177, "DENIED_BY_LB_SRC_RANGE_CHECK", "Denied by LB src range check" },
	{ 178, "SOCKET_LOOKUP_FAILED", "Socket lookup failed" },
	{ 179, "SOCKET_ASSIGN_FAILED", "Socket assign failed" },
	{ 180, "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL", "Proxy redirection not supported for protocol" },
	{ 181, "POLICY_DENY", "Policy denied by denylist" },
	{ 182, "VLAN_FILTERED", "VLAN traffic disallowed by VLAN filter" },
	{ 183, "INVALID_VNI", "Incorrect VNI from VTEP" },
	{ 184, "INVALID_TC_BUFFER", "Failed to update or lookup TC buffer" },
	{ 185, "NO_SID", "No SID was found for the IP address" },
	{ 186, "MISSING_SRV6_STATE", "SRv6 state was removed during tail call" },
	{ 187, "NAT46", "L3 translation from IPv4 to IPv6 failed (NAT46)" },
	{ 188, "NAT64", "L3 translation from IPv6 to IPv4 failed (NAT64)" },
	{ 189, "AUTH_REQUIRED", "Authentication required" },
	{ 190, "CT_NO_MAP_FOUND", "No conntrack map found" },
	{ 191, "SNAT_NO_MAP_FOUND", "No nat map found" },
	{ 192, "INVALID_CLUSTER_ID", "Invalid ClusterID" },
	{ 193, "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP", "Unsupported packet protocol for DSR encapsulation" },
	{ 194, "NO_EGRESS_GATEWAY", "No egress gateway found" },
	{ 195, "UNENCRYPTED_TRAFFIC", "Traffic is unencrypted" },
	{ 196, "TTL_EXCEEDED", "TTL exceeded" },
	{ 197, "NO_NODE_ID", "No node ID found" },
	{ 198, "DROP_RATE_LIMITED", "Rate limited" },
	{ 199, "IGMP_HANDLED", "IGMP handled" },
	{ 200, "IGMP_SUBSCRIBED", "IGMP subscribed" },
	{ 201, "MULTICAST_HANDLED", "Multicast handled" },
	{ 202, "DROP_HOST_NOT_READY", "Host datapath not ready" },
	{ 203, "DROP_EP_NOT_READY", "Endpoint policy program not available" },
	{ 204, "DROP_NO_EGRESS_IP", "No Egress IP configured" },
	{ 205, "DROP_PUNT_PROXY", "Punt to proxy" });

const char *fe_enum_name(const struct fe_enum *e, uint32_t value)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->entries[i].value == value)
			return e->entries[i].name;
	return NULL;
}

int fe_enum_value(const struct fe_enum *e, const char *name, bool nocase, uint32_t *value)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *n = e->entries[i].name;
		if (nocase ? strcasecmp(n, name) == 0 : strcmp(n, name) == 0) {
			*value = e->entries[i].value;
			return 0;
		}
	}
	return -1;
}

/* Cilium's monitor also names these non-drop codes (< 130), which the
 * TYPE column shows when a drop event carries one. */
static const char *const monitor_low_codes[16] = {
	[0] = "Success", [2] = "Invalid packet", [3] = "Interface",
	[4] = "Interface Decrypted", [5] = "LB, sock cgroup: No backend slot entry found",
	[6] = "LB, sock cgroup: No backend entry found",
	[7] = "LB, sock cgroup: Reverse entry update failed",
	[8] = "LB, sock cgroup: Reverse entry stale", [9] = "Fragmented packet",
	[10] = "Fragmented packet entry update failed", [11] = "Missed tail call to custom program",
	[12] = "Interface Decrypting", [13] = "Interface Encrypting",
	[14] = "LB: sock cgroup: Reverse entry delete succeeded", [15] = "MTU error message",
};

const char *fe_drop_reason_text(uint32_t code)
{
	const struct fe_enum *e = &fe_enum_drop_reason;
	if (code < 16)
		return monitor_low_codes[code];
	for (size_t i = 0; i < e->n; i++)
		if (e->entries[i].value == code)
			return e->entries[i].text;
	return NULL;
}

/* Datapath codes: TraceToLxc = 0 ... TraceToCrypto = 13. */
static const char *const trace_point_texts[] = {
	"to-endpoint", "to-proxy", "to-host", "to-stack", "to-overlay",
	"from-endpoint", "from-proxy", "from-host", "from-stack", "from-overlay",
	"from-network", "to-network", "from-crypto", "to-crypto",
};

const char *fe_trace_point_text(uint32_t code)
{
	if (code < sizeof(trace_point_texts) / sizeof(trace_point_texts[0]))
		return trace_point_texts[code];
	return NULL;
}

const char *fe_policy_match_text(uint32_t match)
{
	static const char *const t[] = { "none", "L3-Only", "L3-L4", "L4-Only", "all",
	                                 "L3-Proto", "Proto-Only" };
	return match < sizeof(t) / sizeof(t[0]) ? t[match] : "unknown";
}

static const char *const reserved_identities[] = {
	"unknown", "host", "world", "unmanaged", "health", "init", "remote-node",
	"kube-apiserver", "ingress", "world-ipv4", "world-ipv6",
};
#define N_RESERVED (sizeof(reserved_identities) / sizeof(reserved_identities[0]))

const char *fe_reserved_identity_name(uint32_t identity)
{
	return identity < N_RESERVED ? reserved_identities[identity] : NULL;
}

int fe_reserved_identity_value(const char *name, uint32_t *identity)
{
	for (uint32_t i = 0; i < N_RESERVED; i++)
		if (strcmp(reserved_identities[i], name) == 0) {
			*identity = i;
			return 0;
		}
	return -1;
}

static const struct fe_enum_entry monitor_types[] = {
	{ FE_MSG_DROP, "drop", NULL }, { FE_MSG_DEBUG, "debug", NULL }, { FE_MSG_CAPTURE, "capture", NULL },
	{ FE_MSG_TRACE, "trace", NULL }, { FE_MSG_POLICY_VERDICT, "policy-verdict", NULL },
	{ FE_MSG_TRACE_SOCK, "trace-sock", NULL }, { FE_MSG_ACCESS_LOG, "l7", NULL },
	{ FE_MSG_AGENT, "agent", NULL },
};

const char *fe_monitor_type_name(uint32_t type)
{
	for (size_t i = 0; i < sizeof(monitor_types) / sizeof(monitor_types[0]); i++)
		if (monitor_types[i].value == type)
			return monitor_types[i].name;
	return NULL;
}

int fe_monitor_type_value(const char *name, uint32_t *type)
{
	for (size_t i = 0; i < sizeof(monitor_types) / sizeof(monitor_types[0]); i++)
		if (strcmp(monitor_types[i].name, name) == 0) {
			*type = monitor_types[i].value;
			return 0;
		}
	return -1;
}

/* --- ICMP names (gopacket layers/icmp4.go, icmp6.go) ----------------------- */

struct icmp_type_info {
	uint8_t type;
	const char *name;
	const char *const *codes;  /* NULL: the type has no code names */
	uint8_t n_codes;
};

static const char *const icmp4_unreach[] = {
	"Net", "Host", "Protocol", "Port", "FragmentationNeeded", "SourceRoutingFailed",
	"NetUnknown", "HostUnknown", "SourceIsolated", "NetAdminProhibited",
	"HostAdminProhibited", "NetTOS", "HostTOS", "CommAdminProhibited",
	"HostPrecedence", "PrecedenceCutoff",
};
static const char *const icmp4_time_exceeded[] = { "TTLExceeded", "FragmentReassemblyTimeExceeded" };
static const char *const icmp4_param_problem[] = { "PointerIndicatesError", "MissingOption", "BadLength" };
static const char *const icmp4_redirect[] = { "Net", "Host", "TOS+Net", "TOS+Host" };

#define CODES(a) a, (uint8_t)(sizeof(a) / sizeof(a[0]))
static const struct icmp_type_info icmp4_types[] = {
	{ 0, "EchoReply", NULL, 0 },
	{ 3, "DestinationUnreachable", CODES(icmp4_unreach) },
	{ 4, "SourceQuench", NULL, 0 },
	{ 5, "Redirect", CODES(icmp4_redirect) },
	{ 8, "EchoRequest", NULL, 0 },
	{ 9, "RouterAdvertisement", NULL, 0 },
	{ 10, "RouterSolicitation", NULL, 0 },
	{ 11, "TimeExceeded", CODES(icmp4_time_exceeded) },
	{ 12, "ParameterProblem", CODES(icmp4_param_problem) },
	{ 13, "TimestampRequest", NULL, 0 },
	{ 14, "TimestampReply", NULL, 0 },
	{ 15, "InfoRequest", NULL, 0 },
	{ 16, "InfoReply", NULL, 0 },
	{ 17, "AddressMaskRequest", NULL, 0 },
	{ 18, "AddressMaskReply", NULL, 0 },
};

static const char *const icmp6_unreach[] = {
	"NoRouteToDst", "AdminProhibited", "BeyondScopeOfSrc", "AddressUnreachable",
	"PortUnreachable", "SrcAddressFailedPolicy", "RejectRouteToDst",
};
static const char *const icmp6_time_exceeded[] = { "HopLimitExceeded", "FragmentReassemblyTimeExceeded" };
static const char *const icmp6_param_problem[] = {
	"ErroneousHeaderField", "UnrecognizedNextHeader", "UnrecognizedIPv6Option",
};
static const struct icmp_type_info icmp6_types[] = {
	{ 1, "DestinationUnreachable", CODES(icmp6_unreach) },
	{ 2, "PacketTooBig", NULL, 0 },
	{ 3, "TimeExceeded", CODES(icmp6_time_exceeded) },
	{ 4, "ParameterProblem", CODES(icmp6_param_problem) },
	{ 128, "EchoRequest", NULL, 0 },
	{ 129, "EchoReply", NULL, 0 },
	{ 133, "RouterSolicitation", NULL, 0 },
	{ 134, "RouterAdvertisement", NULL, 0 },
	{ 135, "NeighborSolicitation", NULL, 0 },
	{ 136, "NeighborAdvertisement", NULL, 0 },
	{ 137, "Redirect", NULL, 0 },
};

static void icmp_text(const struct icmp_type_info *tab, size_t n, uint32_t type32,
                      uint32_t code32, char *buf, size_t size)
{
	/* gopacket holds type and code in 8 bits each. */
	uint8_t type = (uint8_t)type32, code = (uint8_t)code32;
	for (size_t i = 0; i < n; i++) {
		const struct icmp_type_info *t = &tab[i];
		if (t->type != type)
			continue;
		if (!t->codes && code == 0)
			snprintf(buf, size, "%s", t->name);
		else if (t->codes && code < t->n_codes)
			snprintf(buf, size, "%s(%s)", t->name, t->codes[code]);
		else
			snprintf(buf, size, "%s(Code: %u)", t->name, code);
		return;
	}
	snprintf(buf, size, "%u(%u)", type, code);
}

void fe_icmpv4_text(uint32_t type, uint32_t code, char *buf, size_t size)
{
	icmp_text(icmp4_types, sizeof(icmp4_types) / sizeof(icmp4_types[0]), type, code, buf, size);
}

void fe_icmpv6_text(uint32_t type, uint32_t code, char *buf, size_t size)
{
	icmp_text(icmp6_types, sizeof(icmp6_types) / sizeof(icmp6_types[0]), type, code, buf, size);
}

const char *fe_dns_rcode_text(uint32_t rcode)
{
	switch ((uint8_t)rcode) {  /* gopacket's DNSResponseCode is a uint8 */
	case 0: return "No Error";
	case 1: return "Format Error";
	case 2: return "Server Failure ";
	case 3: return "Non-Existent Domain";
	case 4: return "Not Implemented";
	case 5: return "Query Refused";
	case 6: return "Name Exists when it should not";
	case 7: return "RR Set Exists when it should not";
	case 8: return "RR Set that should exist does not";
	case 9: return "Server Not Authoritative for zone";
	case 10: return "Name not contained in zone";
	case 16: return "Bad OPT Version";
	case 17: return "Key not recognized";
	case 18: return "Signature out of time window";
	case 19: return "Bad TKEY Mode";
	case 20: return "Duplicate key name";
	case 21: return "Algorithm not supported";
	case 22: return "Bad Truncation";
	case 23: return "Bad Cookie";
	default: return "Unknown";
	}
}
