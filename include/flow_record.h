/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Structures shared by the BPF programs (xdp/, tc/) and user space (flowd,
 * flowctl replay). One definition, used on both sides: change it here only.
 *
 * A flow is directional: A->B and B->A are two records. The key also carries
 * the interface and the hook direction, so the same packet seen on two
 * interfaces (or leaving and entering) is two records, as tcpdump on each
 * interface would show it.
 */
#ifndef FLOWD_FLOW_RECORD_H
#define FLOWD_FLOW_RECORD_H

#include <linux/types.h>

#include "policy_maps.h"

#define FLOW_ADDR_LEN 16

/* Which hook observed the packet. */
enum flow_dir {
	FLOW_DIR_INGRESS = 0,
	FLOW_DIR_EGRESS = 1,
};

/* TCP flag bits as they appear in byte 13 of the TCP header, plus NS. */
enum flow_tcp_flag {
	FLOW_TCP_FIN = 0x001,
	FLOW_TCP_SYN = 0x002,
	FLOW_TCP_RST = 0x004,
	FLOW_TCP_PSH = 0x008,
	FLOW_TCP_ACK = 0x010,
	FLOW_TCP_URG = 0x020,
	FLOW_TCP_ECE = 0x040,
	FLOW_TCP_CWR = 0x080,
	FLOW_TCP_NS = 0x100,
};

/*
 * Directional flow key. All multi-byte integers in host byte order.
 * Addresses: IPv4 in the first 4 bytes (network order), the rest zero.
 * ICMP/ICMPv6: sport = echo identifier (echo request/reply), else 0;
 *              dport = type << 8 | code.
 * Protocols without ports: sport = dport = 0.
 */
struct flow_key {
	__u8 saddr[FLOW_ADDR_LEN];
	__u8 daddr[FLOW_ADDR_LEN];
	__u16 sport;
	__u16 dport;
	__u32 ifindex;
	__u16 vlan_id;   /* outermost VID, 0 = untagged */
	__u8 family;     /* 4 or 6 */
	__u8 proto;      /* IPPROTO_* of the transport (after IPv6 extension headers) */
	__u8 direction;  /* enum flow_dir */
	__u8 pad[3];     /* always zero: the key is hashed as bytes */
} __attribute__((aligned(8)));  /* hashed and compared as 6 64-bit words */

/* Per-direction counters. Times are CLOCK_MONOTONIC ns in the kernel,
 * capture time (ns since the epoch) in replay.
 * In the kernel first_seen_ns is exact (bpf_ktime_get_ns() when the record
 * is created); last_seen_ns has jiffy precision (1 tick = 1000/CONFIG_HZ ms,
 * 4 ms at HZ=250) and is never before first_seen_ns. See README "Datapath".
 * The kernel keeps these in a different layout (include/flow_table.h:
 * struct flow_entry, flow_entry_read()). */
struct flow_rec {
	__u64 packets;
	__u64 bytes;          /* frame length at the hook, L2 header included */
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u16 tcp_flags;      /* union of enum flow_tcp_flag over all packets */
	__u16 first_tcp_flags;/* flags of the first packet (start event) */
	__u8 eth_src[6];      /* MAC addresses of the first packet */
	__u8 eth_dst[6];
	struct policy_flow policy;  /* flowd: the datapath's policy result (gen 0: none) */
};

/*
 * Datapath counters: map `flow_counters`, a per-CPU array indexed by this
 * enum (sum over CPUs). Every packet a program sees is in FLOW_CNT_PACKETS;
 * it then lands in exactly one of: a `flows` entry, the interface's
 * `flow_overflow` record (FLOW_CNT_MAP_FULL_*: both candidate buckets of
 * its flow were full), nowhere because it has no flow key
 * (FLOW_CNT_NO_KEY_*: not IP or malformed, reason in the FLOW_CNT_NOT_IP..
 * block) or nowhere at all (FLOW_CNT_LOST_*). So
 *   PACKETS = sum(flows) + sum(flow_overflow) + NO_KEY_PACKETS + LOST_PACKETS
 * and the same for bytes, until records are deleted.
 */
enum flow_counter {
	FLOW_CNT_PACKETS = 0,      /* every packet seen */
	FLOW_CNT_BYTES,            /* their bytes, as flow_rec.bytes */
	FLOW_CNT_NEW_FLOWS,        /* entries created in `flows` */
	FLOW_CNT_NO_KEY_PACKETS,   /* not IP or malformed: in no record */
	FLOW_CNT_NO_KEY_BYTES,
	FLOW_CNT_MAP_FULL_PACKETS, /* `flows` full: counted in `flow_overflow` instead */
	FLOW_CNT_MAP_FULL_BYTES,
	FLOW_CNT_LOST_PACKETS,     /* `flows` and `flow_overflow` full: in no record */
	FLOW_CNT_LOST_BYTES,
	FLOW_CNT_FRAG_FIRST,       /* first fragments (ports remembered in `frag_ports`) */
	FLOW_CNT_FRAG_LATER,       /* non-first fragments, attributed to the first's ports */
	FLOW_CNT_FRAG_NO_FIRST,    /* ... whose first fragment was not seen: ports 0 */
	/* One per enum pkt_status except PKT_OK, same order
	 * (FLOW_CNT_NOT_IP - PKT_NOT_IP + status; checked in pkt_parse.h). */
	FLOW_CNT_NOT_IP,
	FLOW_CNT_L4_UNKNOWN,       /* recorded, with ports 0 */
	FLOW_CNT_ERR_ETH_TRUNC,
	FLOW_CNT_ERR_VLAN_TRUNC,
	FLOW_CNT_ERR_VLAN_TOO_MANY,
	FLOW_CNT_ERR_IPV4_TRUNC,
	FLOW_CNT_ERR_IPV4_BAD_IHL,
	FLOW_CNT_ERR_IPV4_BAD_LEN,
	FLOW_CNT_ERR_IPV6_TRUNC,
	FLOW_CNT_ERR_IPV6_EXT_TRUNC,
	FLOW_CNT_ERR_IPV6_EXT_TOO_MANY,
	FLOW_CNT_ERR_TCP_TRUNC,
	FLOW_CNT_ERR_TCP_BAD_DOFF,
	FLOW_CNT_ERR_UDP_TRUNC,
	FLOW_CNT_ERR_SCTP_TRUNC,
	FLOW_CNT_ERR_ICMP_TRUNC,
	FLOW_CNT_ERR_BAD_VERSION,
	FLOW_CNT_ERR_IPV6_BAD_LEN,
	FLOW_CNT_MAX
};

#ifndef __bpf__
/* Stable snake_case names (for flow_stats / metrics / logs). */
static inline const char *flow_counter_name(int c)
{
	static const char *const names[FLOW_CNT_MAX] = {
		[FLOW_CNT_PACKETS] = "packets",
		[FLOW_CNT_BYTES] = "bytes",
		[FLOW_CNT_NEW_FLOWS] = "new_flows",
		[FLOW_CNT_NO_KEY_PACKETS] = "no_key_packets",
		[FLOW_CNT_NO_KEY_BYTES] = "no_key_bytes",
		[FLOW_CNT_MAP_FULL_PACKETS] = "map_full_packets",
		[FLOW_CNT_MAP_FULL_BYTES] = "map_full_bytes",
		[FLOW_CNT_LOST_PACKETS] = "lost_packets",
		[FLOW_CNT_LOST_BYTES] = "lost_bytes",
		[FLOW_CNT_FRAG_FIRST] = "frag_first",
		[FLOW_CNT_FRAG_LATER] = "frag_later",
		[FLOW_CNT_FRAG_NO_FIRST] = "frag_no_first",
		[FLOW_CNT_NOT_IP] = "not_ip",
		[FLOW_CNT_L4_UNKNOWN] = "l4_unknown",
		[FLOW_CNT_ERR_ETH_TRUNC] = "err_eth_trunc",
		[FLOW_CNT_ERR_VLAN_TRUNC] = "err_vlan_trunc",
		[FLOW_CNT_ERR_VLAN_TOO_MANY] = "err_vlan_too_many",
		[FLOW_CNT_ERR_IPV4_TRUNC] = "err_ipv4_trunc",
		[FLOW_CNT_ERR_IPV4_BAD_IHL] = "err_ipv4_bad_ihl",
		[FLOW_CNT_ERR_IPV4_BAD_LEN] = "err_ipv4_bad_len",
		[FLOW_CNT_ERR_IPV6_TRUNC] = "err_ipv6_trunc",
		[FLOW_CNT_ERR_IPV6_EXT_TRUNC] = "err_ipv6_ext_trunc",
		[FLOW_CNT_ERR_IPV6_EXT_TOO_MANY] = "err_ipv6_ext_too_many",
		[FLOW_CNT_ERR_TCP_TRUNC] = "err_tcp_trunc",
		[FLOW_CNT_ERR_TCP_BAD_DOFF] = "err_tcp_bad_doff",
		[FLOW_CNT_ERR_UDP_TRUNC] = "err_udp_trunc",
		[FLOW_CNT_ERR_SCTP_TRUNC] = "err_sctp_trunc",
		[FLOW_CNT_ERR_ICMP_TRUNC] = "err_icmp_trunc",
		[FLOW_CNT_ERR_BAD_VERSION] = "err_bad_version",
		[FLOW_CNT_ERR_IPV6_BAD_LEN] = "err_ipv6_bad_len",
	};
	return c >= 0 && c < FLOW_CNT_MAX && names[c] ? names[c] : "unknown";
}
#endif

#endif /* FLOWD_FLOW_RECORD_H */
