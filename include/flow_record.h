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
};

/* Per-direction counters. Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC) in
 * the kernel, capture time (ns since the epoch) in replay. */
struct flow_rec {
	__u64 packets;
	__u64 bytes;          /* frame length at the hook, L2 header included */
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u16 tcp_flags;      /* union of enum flow_tcp_flag over all packets */
	__u16 first_tcp_flags;/* flags of the first packet (start event) */
	__u8 eth_src[6];      /* MAC addresses of the first packet */
	__u8 eth_dst[6];
};

#endif /* FLOWD_FLOW_RECORD_H */
