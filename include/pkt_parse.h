/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one L2-L4 header parser, shared by xdp/, tc/ and user space (replay,
 * live payload records). Header-only, static inline, no libc, no helpers:
 * it compiles for -target bpf and for the host.
 *
 * Every read is bounds-checked against data_end; a truncated or malformed
 * header returns a PKT_ERR_* status (counted per reason by the caller) and
 * never reads past data_end.
 *
 * STATUS: interface fixed; implementation owned by the datapath work (issue 2).
 */
#ifndef FLOWD_PKT_PARSE_H
#define FLOWD_PKT_PARSE_H

#include <linux/types.h>
#include "flow_record.h"

#define PKT_MAX_VLANS 2       /* 802.1Q and/or 802.1ad, outer first */
#define PKT_MAX_IPV6_EXT 8    /* extension headers followed before giving up */

/* Parse outcome. PKT_OK and PKT_NOT_IP are not errors; everything from
 * PKT_ERR_FIRST on is a reason counter. Keep pkt_status_names in sync. */
enum pkt_status {
	PKT_OK = 0,
	PKT_NOT_IP,             /* ARP, LLDP, ...: counted, no flow */
	PKT_L4_UNKNOWN,         /* IP with a transport we do not parse: flow with ports 0 */
	PKT_ERR_FIRST,
	PKT_ERR_ETH_TRUNC = PKT_ERR_FIRST,
	PKT_ERR_VLAN_TRUNC,
	PKT_ERR_VLAN_TOO_MANY,
	PKT_ERR_IPV4_TRUNC,
	PKT_ERR_IPV4_BAD_IHL,
	PKT_ERR_IPV4_BAD_LEN,   /* total length < header length */
	PKT_ERR_IPV6_TRUNC,
	PKT_ERR_IPV6_EXT_TRUNC,
	PKT_ERR_IPV6_EXT_TOO_MANY,
	PKT_ERR_TCP_TRUNC,
	PKT_ERR_TCP_BAD_DOFF,
	PKT_ERR_UDP_TRUNC,
	PKT_ERR_SCTP_TRUNC,
	PKT_ERR_ICMP_TRUNC,
	PKT_ERR_BAD_VERSION,    /* IP version nibble does not match the ethertype */
	PKT_STATUS_MAX
};

enum pkt_frag {
	PKT_FRAG_NONE = 0,
	PKT_FRAG_FIRST,   /* offset 0, more fragments: carries the ports */
	PKT_FRAG_LATER,   /* offset > 0: no L4 header; ports come from the first */
};

/* What the parser found. Integers in host byte order, addresses as in
 * struct flow_key. Offsets are from the start of the frame. */
struct pkt_info {
	__u8 eth_src[6];
	__u8 eth_dst[6];
	__u16 ethertype;          /* after VLAN tags */
	__u16 vlan_ids[PKT_MAX_VLANS];
	__u8 n_vlans;
	__u8 family;              /* 4, 6, or 0 when not IP */
	__u8 proto;               /* IPPROTO_* after extension headers */
	__u8 frag;                /* enum pkt_frag */
	__u8 ttl;                 /* TTL / hop limit */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 pad0;
	__u32 frag_id;            /* IPv4 identification or IPv6 fragment id */
	__u8 saddr[FLOW_ADDR_LEN];
	__u8 daddr[FLOW_ADDR_LEN];
	__u16 sport;
	__u16 dport;
	__u16 icmp_id;            /* echo identifier */
	__u16 tcp_flags;          /* enum flow_tcp_flag */
	__u32 tcp_seq;
	__u32 tcp_ack;
	__u16 tcp_win;
	__u16 l3_off;
	__u16 l4_off;
	__u16 payload_off;        /* first L4 payload byte */
	__u32 payload_len;        /* L4 payload length per the IP length fields
	                           * (Ethernet padding excluded); may exceed the
	                           * captured bytes */
};

/*
 * pkt_parse_eth(data, data_end, pi): parse from an Ethernet header.
 * pkt_parse_l3(data, data_end, l3_off, ethertype, pi): parse from an IP
 *   header at l3_off (for link types without Ethernet: raw IP, SLL, SLL2,
 *   BSD loopback) with the given ethertype (0x0800 / 0x86DD).
 * Both return enum pkt_status and fill *pi as far as they got.
 *
 * flow_key_from_pkt(pi, ifindex, direction, key): the directional key
 *   (see struct flow_key for the ICMP mapping). Zeroes padding.
 */

#endif /* FLOWD_PKT_PARSE_H */
