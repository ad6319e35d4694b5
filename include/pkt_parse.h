/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one L2-L4 header parser, shared by xdp/, tc/ and user space (replay,
 * live payload records). Header-only, static inline, no libc, no helpers:
 * it compiles for -target bpf and for the host.
 *
 * Every read is bounds-checked against data_end; a truncated or malformed
 * header returns a PKT_ERR_* status (counted per reason by the caller) and
 * never reads past data_end. The IP length fields bound the transport
 * header too: bytes after the IP datagram (Ethernet padding) are not L4.
 *
 * Supported: Ethernet; up to two VLAN tags (0x8100 / 0x88a8, outer first);
 * IPv4 with options and fragments; IPv6 with hop-by-hop, routing, fragment,
 * destination options, AH, mobility, HIP and shim6 extension headers (at
 * most PKT_MAX_IPV6_EXT); TCP, UDP, SCTP (ports), ICMPv4, ICMPv6.
 * Fragments: the first one (offset 0) is parsed to L4 and has ports; later
 * ones report PKT_FRAG_LATER with proto set, ports 0 and no L4 read. Every
 * fragment reports its offset and whether more follow (frag_off), for IP
 * reassembly in user space (l7/ip_reasm.h).
 */
#ifndef FLOWD_PKT_PARSE_H
#define FLOWD_PKT_PARSE_H

#include <linux/types.h>
#include "flow_record.h"

#define PKT_MAX_VLANS 2       /* 802.1Q and/or 802.1ad, outer first */
#define PKT_MAX_IPV6_EXT 8    /* extension headers followed before giving up */

/* Parse outcome. PKT_OK and PKT_NOT_IP are not errors; everything from
 * PKT_ERR_FIRST on is a reason counter. Keep pkt_status_name() and
 * enum flow_counter (flow_record.h) in sync: checked at compile time below. */
enum pkt_status {
	PKT_OK = 0,
	PKT_NOT_IP,             /* ARP, LLDP, ...: counted, no flow */
	PKT_L4_UNKNOWN,         /* IP with a transport we do not parse: flow with ports 0 */
	PKT_ERR_FIRST,
	PKT_ERR_ETH_TRUNC = PKT_ERR_FIRST,
	PKT_ERR_VLAN_TRUNC,
	PKT_ERR_VLAN_TOO_MANY,  /* a third VLAN tag */
	PKT_ERR_IPV4_TRUNC,     /* fixed header or options past the captured bytes */
	PKT_ERR_IPV4_BAD_IHL,   /* IHL < 5 */
	PKT_ERR_IPV4_BAD_LEN,   /* total length < header length */
	PKT_ERR_IPV6_TRUNC,
	PKT_ERR_IPV6_EXT_TRUNC, /* extension header past the captured bytes */
	PKT_ERR_IPV6_EXT_TOO_MANY,
	PKT_ERR_TCP_TRUNC,      /* fixed header or options past the captured bytes or the IP length */
	PKT_ERR_TCP_BAD_DOFF,   /* data offset < 5, or header longer than the IP payload */
	PKT_ERR_UDP_TRUNC,
	PKT_ERR_SCTP_TRUNC,
	PKT_ERR_ICMP_TRUNC,
	PKT_ERR_BAD_VERSION,    /* IP version nibble does not match the ethertype */
	PKT_ERR_IPV6_BAD_LEN,   /* payload length shorter than the extension headers */
	PKT_STATUS_MAX
};

/* Statuses that mean "a header goes past the end of the buffer" (a short
 * capture, or headers outside the linear part of an skb), as opposed to
 * malformed headers. */
#define PKT_TRUNC_MASK ((1u << PKT_ERR_ETH_TRUNC) | (1u << PKT_ERR_VLAN_TRUNC) | \
	(1u << PKT_ERR_IPV4_TRUNC) | (1u << PKT_ERR_IPV6_TRUNC) | (1u << PKT_ERR_IPV6_EXT_TRUNC) | \
	(1u << PKT_ERR_TCP_TRUNC) | (1u << PKT_ERR_UDP_TRUNC) | (1u << PKT_ERR_SCTP_TRUNC) | \
	(1u << PKT_ERR_ICMP_TRUNC))
#define pkt_status_truncated(st) ((unsigned)(st) < 32 && ((1u << (st)) & PKT_TRUNC_MASK))

enum pkt_frag {
	PKT_FRAG_NONE = 0,
	PKT_FRAG_FIRST,   /* offset 0, more fragments: carries the ports */
	PKT_FRAG_LATER,   /* offset > 0: no L4 header; ports come from the first */
};

/* pkt_info.frag_off, laid out like IPv4's flags/offset field (for IPv6
 * too): the fragment offset in 8-byte units in the low 13 bits, and
 * PKT_FRAG_MF when more fragments follow. 0 when not a fragment. */
#define PKT_FRAG_MF 0x2000
#define PKT_FRAG_OFF_MASK 0x1fff
#define pkt_frag_offset(pi) ((__u32)((pi)->frag_off & PKT_FRAG_OFF_MASK) * 8)  /* bytes */
#define pkt_frag_more(pi) (((pi)->frag_off & PKT_FRAG_MF) != 0)

/* What the parser found. Integers in host byte order, addresses as in
 * struct flow_key. Offsets are from the start of the frame (pkt_parse_eth)
 * or of the buffer given to pkt_parse_l3. */
struct pkt_info {
	__u8 eth_src[6];
	__u8 eth_dst[6];
	__u16 ethertype;          /* after VLAN tags */
	__u16 vlan_ids[PKT_MAX_VLANS]; /* VID (12 bits), outer first */
	__u8 n_vlans;
	__u8 family;              /* 4, 6, or 0 when not IP */
	__u8 proto;               /* IPPROTO_* after extension headers */
	__u8 frag;                /* enum pkt_frag */
	__u8 ttl;                 /* TTL / hop limit */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 n_ext;               /* IPv6 extension headers skipped */
	__u16 frag_off;           /* fragment offset and more-fragments flag:
	                           * PKT_FRAG_MF, pkt_frag_offset() */
	__u32 frag_id;            /* IPv4 identification or IPv6 fragment id */
	__u8 saddr[FLOW_ADDR_LEN];
	__u8 daddr[FLOW_ADDR_LEN];
	__u16 sport;              /* TCP/UDP/SCTP ports; ICMP/ICMPv6 as in struct */
	__u16 dport;              /* flow_key: echo id, type << 8 | code */
	__u16 icmp_id;            /* echo identifier (echo request/reply only) */
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
 * Both return enum pkt_status and fill *pi as far as they got (on an L4
 * error the addresses and the IP fields are valid).
 *
 * flow_key_from_pkt(pi, ifindex, direction, key): the directional key
 *   (see struct flow_key for the ICMP mapping). Zeroes padding.
 *
 * An IPv4 total length or IPv6 payload length of 0 (TSO / jumbo frames as
 * captured on the sending host) means "up to the end of the captured bytes".
 */

#define PKT_INLINE static inline __attribute__((always_inline))

/* The flow_counters slot counting packets that parsed with status st (!= PKT_OK). */
#define FLOW_CNT_FOR_STATUS(st) (FLOW_CNT_NOT_IP - PKT_NOT_IP + (st))
_Static_assert(FLOW_CNT_FOR_STATUS(PKT_L4_UNKNOWN) == FLOW_CNT_L4_UNKNOWN, "flow_counter order");
_Static_assert(FLOW_CNT_FOR_STATUS(PKT_ERR_ETH_TRUNC) == FLOW_CNT_ERR_ETH_TRUNC, "flow_counter order");
_Static_assert(FLOW_CNT_FOR_STATUS(PKT_ERR_TCP_BAD_DOFF) == FLOW_CNT_ERR_TCP_BAD_DOFF, "flow_counter order");
_Static_assert(FLOW_CNT_FOR_STATUS(PKT_STATUS_MAX) == FLOW_CNT_MAX, "flow_counter order");

#define PKT_ETH_P_IP     0x0800
#define PKT_ETH_P_IPV6   0x86DD
#define PKT_ETH_P_8021Q  0x8100
#define PKT_ETH_P_8021AD 0x88A8

/* Offsets beyond this are not followed: keeps the verifier's packet
 * pointer arithmetic bounded (MAX_PACKET_OFF is 0xffff). */
#define PKT_MAX_OFF 0x7fff

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define pkt_ntohs(x) __builtin_bswap16(x)
#define pkt_ntohl(x) __builtin_bswap32(x)
#else
#define pkt_ntohs(x) (x)
#define pkt_ntohl(x) (x)
#endif

/* "fewer than n bytes from cur to end". The BPF form is the one the
 * verifier understands; the host form never forms an out-of-range pointer. */
#ifdef __bpf__
#define PKT_SHORT(cur, n, end) ((const __u8 *)(cur) + (n) > (const __u8 *)(end))
#else
#define PKT_SHORT(cur, n, end) \
	((unsigned long)((const __u8 *)(end) - (const __u8 *)(cur)) < (unsigned long)(n))
#endif

/* Unaligned loads: packet loads may be unaligned in BPF (x86 JIT, no
 * strict alignment); on the host go through memcpy. Result in host order. */
#ifdef __bpf__
#define pkt_rd16(p) pkt_ntohs(*(const __u16 *)(const void *)(p))
#define pkt_rd32(p) pkt_ntohl(*(const __u32 *)(const void *)(p))
#define pkt_cp32(dst, src) (*(__u32 *)(void *)(dst) = *(const __u32 *)(const void *)(src))
#define pkt_cp16(dst, src) (*(__u16 *)(void *)(dst) = *(const __u16 *)(const void *)(src))
#else
PKT_INLINE __u16 pkt_rd16(const __u8 *p)
{
	__u16 v;
	__builtin_memcpy(&v, p, 2);
	return pkt_ntohs(v);
}
PKT_INLINE __u32 pkt_rd32(const __u8 *p)
{
	__u32 v;
	__builtin_memcpy(&v, p, 4);
	return pkt_ntohl(v);
}
#define pkt_cp32(dst, src) __builtin_memcpy((dst), (src), 4)
#define pkt_cp16(dst, src) __builtin_memcpy((dst), (src), 2)
#endif

/* MACs sit at 2-aligned offsets: three 16-bit moves (BPF stack stores
 * must be aligned). */
PKT_INLINE void pkt_cp_mac(__u8 *dst, const __u8 *src)
{
	pkt_cp16(dst, src);
	pkt_cp16(dst + 2, src + 2);
	pkt_cp16(dst + 4, src + 4);
}

PKT_INLINE void pkt_zero(void *p, unsigned long n)
{
	__builtin_memset(p, 0, n);
}

/* Transport header at cur; l4_len: bytes the IP header says follow. */
PKT_INLINE int pkt__parse_l4(const __u8 *cur, const __u8 *end, __u32 l4_off,
                             __u32 l4_len, struct pkt_info *pi)
{
	__u32 hlen;

	pi->l4_off = l4_off;
	switch (pi->proto) {
	case 6: /* TCP */
		if (l4_len < 20 || PKT_SHORT(cur, 20, end))
			return PKT_ERR_TCP_TRUNC;
		pi->sport = pkt_rd16(cur);
		pi->dport = pkt_rd16(cur + 2);
		pi->tcp_seq = pkt_rd32(cur + 4);
		pi->tcp_ack = pkt_rd32(cur + 8);
		pi->tcp_flags = cur[13] | (__u16)(cur[12] & 1) << 8;
		pi->tcp_win = pkt_rd16(cur + 14);
		hlen = (__u32)(cur[12] >> 4) * 4;
		if (hlen < 20 || hlen > l4_len)
			return PKT_ERR_TCP_BAD_DOFF;
		pi->payload_off = l4_off + hlen;
		pi->payload_len = l4_len - hlen;
		if (PKT_SHORT(cur, hlen, end))
			return PKT_ERR_TCP_TRUNC;
		return PKT_OK;
	case 17: /* UDP */
		if (l4_len < 8 || PKT_SHORT(cur, 8, end))
			return PKT_ERR_UDP_TRUNC;
		pi->sport = pkt_rd16(cur);
		pi->dport = pkt_rd16(cur + 2);
		hlen = 8;
		break;
	case 132: /* SCTP common header */
		if (l4_len < 12 || PKT_SHORT(cur, 12, end))
			return PKT_ERR_SCTP_TRUNC;
		pi->sport = pkt_rd16(cur);
		pi->dport = pkt_rd16(cur + 2);
		hlen = 12;
		break;
	case 1:  /* ICMP */
	case 58: /* ICMPv6 */
		if ((pi->proto == 1) != (pi->family == 4))
			goto unknown;
		if (l4_len < 8 || PKT_SHORT(cur, 8, end))
			return PKT_ERR_ICMP_TRUNC;
		pi->icmp_type = cur[0];
		pi->icmp_code = cur[1];
		if (pi->proto == 1 ? (cur[0] == 8 || cur[0] == 0)
		                   : (cur[0] == 128 || cur[0] == 129))
			pi->icmp_id = pkt_rd16(cur + 4);
		pi->sport = pi->icmp_id;
		pi->dport = pkt_rd16(cur);
		hlen = 8;
		break;
	default:
	unknown:
		pi->payload_off = l4_off;
		pi->payload_len = l4_len;
		return PKT_L4_UNKNOWN;
	}
	pi->payload_off = l4_off + hlen;
	pi->payload_len = l4_len - hlen;
	return PKT_OK;
}

PKT_INLINE int pkt__parse_ipv4(const __u8 *cur, const __u8 *end, __u32 off,
                               struct pkt_info *pi)
{
	__u32 hlen, tot_len, frag;

	if (PKT_SHORT(cur, 20, end))
		return PKT_ERR_IPV4_TRUNC;
	if ((cur[0] >> 4) != 4)
		return PKT_ERR_BAD_VERSION;
	hlen = (__u32)(cur[0] & 0xf) * 4;
	if (hlen < 20)
		return PKT_ERR_IPV4_BAD_IHL;
	tot_len = pkt_rd16(cur + 2);
	if (tot_len == 0) /* TSO as captured on the sender: up to the end */
		tot_len = (__u32)((const __u8 *)end - cur) & 0xffff;
	if (tot_len < hlen)
		return PKT_ERR_IPV4_BAD_LEN;
	if (PKT_SHORT(cur, hlen, end))
		return PKT_ERR_IPV4_TRUNC;
	pi->family = 4;
	pi->ttl = cur[8];
	pi->proto = cur[9];
	pi->frag_id = pkt_rd16(cur + 4);
	pkt_cp32(pi->saddr, cur + 12);
	pkt_cp32(pi->daddr, cur + 16);
	frag = pkt_rd16(cur + 6);
	pi->frag_off = frag & (PKT_FRAG_MF | PKT_FRAG_OFF_MASK);
	if (frag & 0x1fff) {
		pi->frag = PKT_FRAG_LATER;
		pi->l4_off = off + hlen;
		pi->payload_off = off + hlen;
		pi->payload_len = tot_len - hlen;
		return PKT_OK;
	}
	if (frag & 0x2000)
		pi->frag = PKT_FRAG_FIRST;
	return pkt__parse_l4(cur + hlen, end, off + hlen, tot_len - hlen, pi);
}

/*
 * BPF: make the verifier forget everything about off except 0 <= off <=
 * PKT_MAX_OFF (off must already be in that range; the value is unchanged).
 * Each extension header type advances the cursor by a differently shaped
 * amount; without this the verifier's states multiply per header followed
 * (7^8) instead of being pruned. (end - base) >> 63 is 0 at run time, but
 * the verifier cannot know it: pointer differences are unknown scalars.
 */
#ifdef __bpf__
PKT_INLINE __u32 pkt__forget(__u32 off, const __u8 *base, const __u8 *end)
{
	__u64 r = off, t;

	asm volatile("%[t] = %[end]\n\t"
	             "%[t] -= %[base]\n\t"
	             "%[t] >>= 63\n\t"
	             "%[t] = -%[t]\n\t"
	             "%[r] |= %[t]\n\t"
	             "%[r] &= 32767\n\t"
	             : [r] "+r"(r), [t] "=&r"(t)
	             : [end] "r"(end), [base] "r"(base));
	return (__u32)r;
}
_Static_assert(PKT_MAX_OFF == 32767, "pkt__forget mask");
#else
#define pkt__forget(off, base, end) (off)
#endif

/* base: the buffer start that off counts from (cur == base + off). */
PKT_INLINE int pkt__parse_ipv6(const __u8 *base, const __u8 *cur, const __u8 *end,
                               __u32 off, struct pkt_info *pi)
{
	__u32 len, hlen, fo;
	__u8 nh;
	int i;

	if (PKT_SHORT(cur, 40, end))
		return PKT_ERR_IPV6_TRUNC;
	if ((cur[0] >> 4) != 6)
		return PKT_ERR_BAD_VERSION;
	len = pkt_rd16(cur + 4);
	if (len == 0) /* jumbo / BIG TCP as captured: up to the end */
		len = ((__u32)((const __u8 *)end - cur) - 40) & 0xffff;
	nh = cur[6];
	pi->family = 6;
	pi->ttl = cur[7];
	pi->proto = nh;
	pkt_cp32(pi->saddr, cur + 8);
	pkt_cp32(pi->saddr + 4, cur + 12);
	pkt_cp32(pi->saddr + 8, cur + 16);
	pkt_cp32(pi->saddr + 12, cur + 20);
	pkt_cp32(pi->daddr, cur + 24);
	pkt_cp32(pi->daddr + 4, cur + 28);
	pkt_cp32(pi->daddr + 8, cur + 32);
	pkt_cp32(pi->daddr + 12, cur + 36);
	off += 40;

	for (i = 0; i < PKT_MAX_IPV6_EXT; i++) {
		off = pkt__forget(off, base, end);
		cur = base + off;
		switch (nh) {
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
			if (PKT_SHORT(cur, 8, end))
				return PKT_ERR_IPV6_EXT_TRUNC;
			hlen = ((__u32)cur[1] + 1) * 8;
			break;
		case 51:  /* AH: length in 4-octet units, minus 2 */
			if (PKT_SHORT(cur, 8, end))
				return PKT_ERR_IPV6_EXT_TRUNC;
			hlen = ((__u32)cur[1] + 2) * 4;
			break;
		case 44:  /* fragment */
			if (PKT_SHORT(cur, 8, end))
				return PKT_ERR_IPV6_EXT_TRUNC;
			if (len < 8)
				return PKT_ERR_IPV6_BAD_LEN;
			fo = pkt_rd16(cur + 2);
			pi->frag_id = pkt_rd32(cur + 4);
			/* offset << 3 | M here; IPv4's layout in frag_off (an
			 * atomic fragment, offset 0 without M, gives 0) */
			pi->frag_off = (fo >> 3) | (fo & 1 ? PKT_FRAG_MF : 0);
			nh = cur[0];
			pi->proto = nh;
			pi->n_ext++;
			off += 8;
			len -= 8;
			if (fo & 0xfff8) {
				pi->frag = PKT_FRAG_LATER;
				pi->l4_off = off;
				pi->payload_off = off;
				pi->payload_len = len;
				return PKT_OK;
			}
			if (fo & 1)
				pi->frag = PKT_FRAG_FIRST;
			continue;
		default:
			return pkt__parse_l4(cur, end, off, len, pi);
		}
		if (hlen > len)
			return PKT_ERR_IPV6_BAD_LEN;
		if (PKT_SHORT(cur, hlen, end))
			return PKT_ERR_IPV6_EXT_TRUNC;
		nh = cur[0];
		pi->proto = nh;
		pi->n_ext++;
		off += hlen;
		len -= hlen;
		if (off > PKT_MAX_OFF)
			return PKT_ERR_IPV6_EXT_TOO_MANY;
	}
	switch (nh) {
	case 0: case 43: case 60: case 135: case 139: case 140: case 51: case 44:
		return PKT_ERR_IPV6_EXT_TOO_MANY;
	}
	off = pkt__forget(off, base, end);
	return pkt__parse_l4(base + off, end, off, len, pi);
}

PKT_INLINE int pkt__parse_ip(const __u8 *base, const __u8 *cur, const __u8 *end,
                             __u32 off, __u16 ethertype, struct pkt_info *pi)
{
	pi->ethertype = ethertype;
	pi->l3_off = off;
	if (ethertype == PKT_ETH_P_IP)
		return pkt__parse_ipv4(cur, end, off, pi);
	if (ethertype == PKT_ETH_P_IPV6)
		return pkt__parse_ipv6(base, cur, end, off, pi);
	return PKT_NOT_IP;
}

PKT_INLINE int pkt_parse_eth(const void *data, const void *data_end, struct pkt_info *pi)
{
	const __u8 *cur = (const __u8 *)data, *end = (const __u8 *)data_end;
	__u32 off = 14;
	__u16 proto;

	pkt_zero(pi, sizeof(*pi));
	if (PKT_SHORT(cur, 14, end))
		return PKT_ERR_ETH_TRUNC;
	pkt_cp_mac(pi->eth_dst, cur);
	pkt_cp_mac(pi->eth_src, cur + 6);
	proto = pkt_rd16(cur + 12);
	cur += 14;
	if (proto == PKT_ETH_P_8021Q || proto == PKT_ETH_P_8021AD) {
		if (PKT_SHORT(cur, 4, end))
			return PKT_ERR_VLAN_TRUNC;
		pi->vlan_ids[0] = pkt_rd16(cur) & 0xfff;
		pi->n_vlans = 1;
		proto = pkt_rd16(cur + 2);
		cur += 4;
		off += 4;
		if (proto == PKT_ETH_P_8021Q || proto == PKT_ETH_P_8021AD) {
			if (PKT_SHORT(cur, 4, end))
				return PKT_ERR_VLAN_TRUNC;
			pi->vlan_ids[1] = pkt_rd16(cur) & 0xfff;
			pi->n_vlans = 2;
			proto = pkt_rd16(cur + 2);
			cur += 4;
			off += 4;
			if (proto == PKT_ETH_P_8021Q || proto == PKT_ETH_P_8021AD) {
				pi->ethertype = proto;
				return PKT_ERR_VLAN_TOO_MANY;
			}
		}
	}
	return pkt__parse_ip((const __u8 *)data, cur, end, off, proto, pi);
}

PKT_INLINE int pkt_parse_l3(const void *data, const void *data_end, __u32 l3_off,
                            __u16 ethertype, struct pkt_info *pi)
{
	const __u8 *cur = (const __u8 *)data, *end = (const __u8 *)data_end;

	pkt_zero(pi, sizeof(*pi));
	if (l3_off > PKT_MAX_OFF || PKT_SHORT(cur, l3_off, end))
		return ethertype == PKT_ETH_P_IPV6 ? PKT_ERR_IPV6_TRUNC : PKT_ERR_IPV4_TRUNC;
	return pkt__parse_ip(cur, cur + l3_off, end, l3_off, ethertype, pi);
}

PKT_INLINE void flow_key_from_pkt(const struct pkt_info *pi, __u32 ifindex,
                                  __u8 direction, struct flow_key *key)
{
	pkt_zero(key, sizeof(*key));
	__builtin_memcpy(key->saddr, pi->saddr, FLOW_ADDR_LEN);
	__builtin_memcpy(key->daddr, pi->daddr, FLOW_ADDR_LEN);
	key->sport = pi->sport;
	key->dport = pi->dport;
	key->ifindex = ifindex;
	key->vlan_id = pi->vlan_ids[0];
	key->family = pi->family;
	key->proto = pi->proto;
	key->direction = direction;
}

#ifndef __bpf__
/* Stable names for logs, counters and the README. */
PKT_INLINE const char *pkt_status_name(int st)
{
	static const char *const names[PKT_STATUS_MAX] = {
		[PKT_OK] = "ok",
		[PKT_NOT_IP] = "not_ip",
		[PKT_L4_UNKNOWN] = "l4_unknown",
		[PKT_ERR_ETH_TRUNC] = "eth_trunc",
		[PKT_ERR_VLAN_TRUNC] = "vlan_trunc",
		[PKT_ERR_VLAN_TOO_MANY] = "vlan_too_many",
		[PKT_ERR_IPV4_TRUNC] = "ipv4_trunc",
		[PKT_ERR_IPV4_BAD_IHL] = "ipv4_bad_ihl",
		[PKT_ERR_IPV4_BAD_LEN] = "ipv4_bad_len",
		[PKT_ERR_IPV6_TRUNC] = "ipv6_trunc",
		[PKT_ERR_IPV6_EXT_TRUNC] = "ipv6_ext_trunc",
		[PKT_ERR_IPV6_EXT_TOO_MANY] = "ipv6_ext_too_many",
		[PKT_ERR_TCP_TRUNC] = "tcp_trunc",
		[PKT_ERR_TCP_BAD_DOFF] = "tcp_bad_doff",
		[PKT_ERR_UDP_TRUNC] = "udp_trunc",
		[PKT_ERR_SCTP_TRUNC] = "sctp_trunc",
		[PKT_ERR_ICMP_TRUNC] = "icmp_trunc",
		[PKT_ERR_BAD_VERSION] = "bad_version",
		[PKT_ERR_IPV6_BAD_LEN] = "ipv6_bad_len",
	};
	return st >= 0 && st < PKT_STATUS_MAX && names[st] ? names[st] : "unknown";
}
#endif

#endif /* FLOWD_PKT_PARSE_H */
