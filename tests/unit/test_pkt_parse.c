/* include/pkt_parse.h on the host: every parse path over crafted frames,
 * with exact field values; every truncation point of several frames. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pkt_build.h"
#include "pkt_parse.h"

static char nbuf[128];
static const char *nm(const char *a, const char *b)
{
	snprintf(nbuf, sizeof(nbuf), "%s: %s", a, b);
	return nbuf;
}

/* Parse from a heap copy of exactly len bytes, so a read past the end is an
 * out-of-bounds read (caught under ASan/valgrind), not a read of slack. */
static int parse_exact(const uint8_t *frame, size_t len, struct pkt_info *pi)
{
	uint8_t *copy = malloc(len ? len : 1);
	int st;

	memcpy(copy, frame, len);
	st = pkt_parse_eth(copy, copy + len, pi);
	free(copy);
	return st;
}

static int parse(struct pb *p, struct pkt_info *pi)
{
	return parse_exact(p->b, p->len, pi);
}

static void test_ipv4_tcp_syn(void)
{
	struct pb p;
	struct pkt_info pi;
	struct flow_key k;
	const char *t = "ipv4 tcp syn";

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 0x1234, 0x4000);
	pb_tcp(&p, 40000, 80, 1000, 0, FLOW_TCP_SYN, 5, 64240);
	pb_finish(&p, 6); /* 54 bytes + 6 bytes Ethernet padding = 60 */
	CHECK_U64(nm(t, "status"), parse(&p, &pi), PKT_OK);
	CHECK(nm(t, "eth_dst"), memcmp(pi.eth_dst, PB_MAC_DST, 6) == 0);
	CHECK(nm(t, "eth_src"), memcmp(pi.eth_src, PB_MAC_SRC, 6) == 0);
	CHECK_U64(nm(t, "ethertype"), pi.ethertype, 0x0800);
	CHECK_U64(nm(t, "n_vlans"), pi.n_vlans, 0);
	CHECK_U64(nm(t, "family"), pi.family, 4);
	CHECK_U64(nm(t, "proto"), pi.proto, 6);
	CHECK_U64(nm(t, "ttl"), pi.ttl, 64);
	CHECK_U64(nm(t, "frag"), pi.frag, PKT_FRAG_NONE);
	CHECK_U64(nm(t, "frag_id"), pi.frag_id, 0x1234);
	CHECK(nm(t, "saddr"), memcmp(pi.saddr, PB_IP4_SRC, 4) == 0);
	CHECK(nm(t, "daddr"), memcmp(pi.daddr, PB_IP4_DST, 4) == 0);
	static const uint8_t zero12[12];
	CHECK(nm(t, "saddr tail zero"), memcmp(pi.saddr + 4, zero12, 12) == 0);
	CHECK_U64(nm(t, "sport"), pi.sport, 40000);
	CHECK_U64(nm(t, "dport"), pi.dport, 80);
	CHECK_U64(nm(t, "seq"), pi.tcp_seq, 1000);
	CHECK_U64(nm(t, "ack"), pi.tcp_ack, 0);
	CHECK_U64(nm(t, "win"), pi.tcp_win, 64240);
	CHECK_U64(nm(t, "flags"), pi.tcp_flags, FLOW_TCP_SYN);
	CHECK_U64(nm(t, "l3_off"), pi.l3_off, 14);
	CHECK_U64(nm(t, "l4_off"), pi.l4_off, 34);
	CHECK_U64(nm(t, "payload_off"), pi.payload_off, 54);
	CHECK_U64(nm(t, "payload_len excludes padding"), pi.payload_len, 0);

	flow_key_from_pkt(&pi, 7, FLOW_DIR_EGRESS, &k);
	CHECK(nm(t, "key saddr"), memcmp(k.saddr, PB_IP4_SRC, 4) == 0 &&
	                          memcmp(k.saddr + 4, zero12, 12) == 0);
	CHECK(nm(t, "key daddr"), memcmp(k.daddr, PB_IP4_DST, 4) == 0);
	CHECK_U64(nm(t, "key sport"), k.sport, 40000);
	CHECK_U64(nm(t, "key dport"), k.dport, 80);
	CHECK_U64(nm(t, "key ifindex"), k.ifindex, 7);
	CHECK_U64(nm(t, "key vlan"), k.vlan_id, 0);
	CHECK_U64(nm(t, "key family"), k.family, 4);
	CHECK_U64(nm(t, "key proto"), k.proto, 6);
	CHECK_U64(nm(t, "key direction"), k.direction, FLOW_DIR_EGRESS);
	CHECK(nm(t, "key pad zero"), k.pad[0] == 0 && k.pad[1] == 0 && k.pad[2] == 0);
}

static void test_tcp_variants(void)
{
	struct pb p;
	struct pkt_info pi;

	/* all nine flags, options (doff 8), 100 bytes payload */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0xdeadbeef, 0xfeedface, 0x1ff, 8, 0xffff);
	pb_payload(&p, 100);
	pb_finish(&p, 0);
	CHECK_U64("tcp all flags: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("tcp all flags: flags incl NS", pi.tcp_flags, 0x1ff);
	CHECK_U64("tcp all flags: seq", pi.tcp_seq, 0xdeadbeef);
	CHECK_U64("tcp all flags: ack", pi.tcp_ack, 0xfeedface);
	CHECK_U64("tcp all flags: win", pi.tcp_win, 0xffff);
	CHECK_U64("tcp options: payload_off", pi.payload_off, 14 + 20 + 32);
	CHECK_U64("tcp options: payload_len", pi.payload_len, 100);

	/* NS alone, ECE|CWR|ACK */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_NS | FLOW_TCP_ACK, 5, 1);
	pb_finish(&p, 0);
	CHECK_U64("tcp ns|ack: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("tcp ns|ack: flags", pi.tcp_flags, FLOW_TCP_NS | FLOW_TCP_ACK);

	/* data offset 4 */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_SYN, 4, 1);
	pb_zeros(&p, 4);
	pb_finish(&p, 0);
	CHECK_U64("tcp doff 4: status", parse(&p, &pi), PKT_ERR_TCP_BAD_DOFF);
	CHECK_U64("tcp doff 4: ports still filled", pi.sport, 1);

	/* data offset 15 but only 20 bytes of TCP per the IP length */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_SYN, 5, 1);
	p.b[p.len - 8] = 0xf0;
	pb_finish(&p, 40); /* padding does not count as TCP header */
	CHECK_U64("tcp doff past ip length: status", parse(&p, &pi), PKT_ERR_TCP_BAD_DOFF);

	/* options announced and covered by the IP length, frame cut short */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_SYN, 10, 1);
	pb_finish(&p, 0);
	CHECK_U64("tcp options cut: status", parse_exact(p.b, p.len - 1, &pi), PKT_ERR_TCP_TRUNC);
	CHECK_U64("tcp options cut: ports still filled", pi.dport, 2);

	/* IP length leaves 19 bytes of TCP, frame has more (padding) */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 1, 0);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_SYN, 5, 1);
	pb_finish(&p, 10);
	pb_set16(&p, 14 + 2, 20 + 19);
	CHECK_U64("tcp shorter than ip length: status", parse(&p, &pi), PKT_ERR_TCP_TRUNC);
}

static void test_vlans(void)
{
	struct pb p;
	struct pkt_info pi;
	struct flow_key k;

	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 0xe000 | 100, 0x0800); /* PCP 7, VID 100 */
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 5353, 53, 0);
	pb_finish(&p, 0);
	CHECK_U64("vlan 8100: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("vlan 8100: n_vlans", pi.n_vlans, 1);
	CHECK_U64("vlan 8100: vid (PCP masked)", pi.vlan_ids[0], 100);
	CHECK_U64("vlan 8100: ethertype", pi.ethertype, 0x0800);
	CHECK_U64("vlan 8100: l3_off", pi.l3_off, 18);
	CHECK_U64("vlan 8100: l4_off", pi.l4_off, 38);
	CHECK_U64("vlan 8100: sport", pi.sport, 5353);
	flow_key_from_pkt(&pi, 1, 0, &k);
	CHECK_U64("vlan 8100: key vlan", k.vlan_id, 100);

	pb_init(&p);
	pb_eth(&p, 0x88a8);
	pb_vlan(&p, 0x0fff, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 1, 2, 0);
	pb_finish(&p, 0);
	CHECK_U64("vlan 88a8 alone: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("vlan 88a8 alone: vid", pi.vlan_ids[0], 4095);

	pb_init(&p);
	pb_eth(&p, 0x88a8);
	pb_vlan(&p, 200, 0x8100);
	pb_vlan(&p, 300, 0x86dd);
	pb_ipv6(&p, 6);
	pb_tcp(&p, 443, 50000, 1, 2, FLOW_TCP_ACK, 5, 3);
	pb_finish(&p, 0);
	CHECK_U64("qinq: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("qinq: n_vlans", pi.n_vlans, 2);
	CHECK_U64("qinq: outer vid", pi.vlan_ids[0], 200);
	CHECK_U64("qinq: inner vid", pi.vlan_ids[1], 300);
	CHECK_U64("qinq: ethertype", pi.ethertype, 0x86dd);
	CHECK_U64("qinq: l3_off", pi.l3_off, 22);
	CHECK_U64("qinq: family", pi.family, 6);
	CHECK_U64("qinq: sport", pi.sport, 443);
	flow_key_from_pkt(&pi, 1, 0, &k);
	CHECK_U64("qinq: key has outer vid", k.vlan_id, 200);

	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 1, 0x8100);
	pb_vlan(&p, 2, 0x88a8);
	pb_vlan(&p, 3, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 1, 2, 0);
	pb_finish(&p, 0);
	CHECK_U64("three tags: status", parse(&p, &pi), PKT_ERR_VLAN_TOO_MANY);

	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_u16(&p, 5);
	CHECK_U64("vlan cut: status", parse(&p, &pi), PKT_ERR_VLAN_TRUNC);
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 1, 0x8100);
	pb_u16(&p, 5);
	pb_u8(&p, 8);
	CHECK_U64("inner vlan cut: status", parse(&p, &pi), PKT_ERR_VLAN_TRUNC);
}

static void test_eth(void)
{
	struct pb p;
	struct pkt_info pi;
	uint8_t arp[42] = { 0 };

	pb_init(&p);
	pb_eth(&p, 0x0800);
	CHECK_U64("eth 13 bytes: status", parse_exact(p.b, 13, &pi), PKT_ERR_ETH_TRUNC);
	CHECK_U64("eth 0 bytes: status", parse_exact(p.b, 0, &pi), PKT_ERR_ETH_TRUNC);
	memcpy(arp, PB_MAC_DST, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	CHECK_U64("arp: status", parse_exact(arp, sizeof(arp), &pi), PKT_NOT_IP);
	CHECK_U64("arp: ethertype", pi.ethertype, 0x0806);
	CHECK_U64("arp: family", pi.family, 0);
	CHECK(nm("arp", "eth_dst"), memcmp(pi.eth_dst, PB_MAC_DST, 6) == 0);
	CHECK_U64("eth header only ipv4: status", parse_exact(p.b, 14, &pi), PKT_ERR_IPV4_TRUNC);
}

static void test_ipv4_errors(void)
{
	struct pb p;
	struct pkt_info pi;

	/* options: IHL 15 (40 bytes of options) */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 15, 9, 0);
	pb_udp(&p, 68, 67, 10);
	pb_payload(&p, 10);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 ihl 15: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 ihl 15: l4_off", pi.l4_off, 14 + 60);
	CHECK_U64("ipv4 ihl 15: dport", pi.dport, 67);
	CHECK_U64("ipv4 ihl 15: payload_len", pi.payload_len, 10);
	CHECK_U64("ipv4 options cut: status", parse_exact(p.b, 14 + 59, &pi), PKT_ERR_IPV4_TRUNC);

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 9, 0);
	pb_udp(&p, 68, 67, 0);
	pb_finish(&p, 0);
	p.b[14] = 0x44;
	CHECK_U64("ipv4 ihl 4: status", parse(&p, &pi), PKT_ERR_IPV4_BAD_IHL);
	p.b[14] = 0x40;
	CHECK_U64("ipv4 ihl 0: status", parse(&p, &pi), PKT_ERR_IPV4_BAD_IHL);
	p.b[14] = 0x45;
	pb_set16(&p, 16, 19);
	CHECK_U64("ipv4 total length 19: status", parse(&p, &pi), PKT_ERR_IPV4_BAD_LEN);
	pb_set16(&p, 16, 0);
	CHECK_U64("ipv4 total length 0 (TSO): status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 total length 0 (TSO): payload_len to end", pi.payload_len, 0);
	pb_set16(&p, 16, 28);
	p.b[14] = 0x65;
	CHECK_U64("ipv4 ethertype with version 6: status", parse(&p, &pi), PKT_ERR_BAD_VERSION);
	p.b[14] = 0x45;
	CHECK_U64("ipv4 19 bytes: status", parse_exact(p.b, 14 + 19, &pi), PKT_ERR_IPV4_TRUNC);

	/* total length larger than the frame: payload_len follows the IP header */
	pb_set16(&p, 16, 28 + 1000);
	CHECK_U64("ipv4 length > frame: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 length > frame: payload_len per ip", pi.payload_len, 1000);

	/* unknown transport: GRE */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 47, 5, 9, 0);
	pb_payload(&p, 24);
	pb_finish(&p, 4);
	CHECK_U64("ipv4 gre: status", parse(&p, &pi), PKT_L4_UNKNOWN);
	CHECK_U64("ipv4 gre: proto", pi.proto, 47);
	CHECK_U64("ipv4 gre: ports 0", pi.sport | pi.dport, 0);
	CHECK_U64("ipv4 gre: payload_off", pi.payload_off, 34);
	CHECK_U64("ipv4 gre: payload_len", pi.payload_len, 24);
}

static void test_ipv4_frags(void)
{
	struct pb p;
	struct pkt_info pi;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0xabcd, 0x2000); /* MF, offset 0 */
	pb_udp(&p, 4000, 5000, 1472);
	pb_payload(&p, 32);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 first fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 first fragment: frag", pi.frag, PKT_FRAG_FIRST);
	CHECK_U64("ipv4 first fragment: id", pi.frag_id, 0xabcd);
	CHECK_U64("ipv4 first fragment: sport", pi.sport, 4000);
	CHECK_U64("ipv4 first fragment: dport", pi.dport, 5000);
	CHECK_U64("ipv4 first fragment: payload_len (this fragment)", pi.payload_len, 32);
	CHECK_U64("ipv4 first fragment: frag_off", pi.frag_off, PKT_FRAG_MF);
	CHECK_U64("ipv4 first fragment: offset", pkt_frag_offset(&pi), 0);
	CHECK_U64("ipv4 first fragment: more", pkt_frag_more(&pi), 1);

	/* later fragment whose data would look like a truncated UDP header */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0xabcd, 0x2000 | 5); /* MF, offset 40 */
	pb_payload(&p, 4);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 middle fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 middle fragment: frag", pi.frag, PKT_FRAG_LATER);
	CHECK_U64("ipv4 middle fragment: proto", pi.proto, 17);
	CHECK_U64("ipv4 middle fragment: no ports", pi.sport | pi.dport, 0);
	CHECK_U64("ipv4 middle fragment: id", pi.frag_id, 0xabcd);
	CHECK_U64("ipv4 middle fragment: payload_off", pi.payload_off, 34);
	CHECK_U64("ipv4 middle fragment: payload_len", pi.payload_len, 4);
	CHECK_U64("ipv4 middle fragment: offset", pkt_frag_offset(&pi), 40);
	CHECK_U64("ipv4 middle fragment: more", pkt_frag_more(&pi), 1);

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 6, 5, 0xabcd, 185); /* last: no MF, offset 1480 */
	pb_payload(&p, 100);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 last fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 last fragment: frag", pi.frag, PKT_FRAG_LATER);
	CHECK_U64("ipv4 last fragment: payload_len", pi.payload_len, 100);
	CHECK_U64("ipv4 last fragment: offset", pkt_frag_offset(&pi), 1480);
	CHECK_U64("ipv4 last fragment: more", pkt_frag_more(&pi), 0);

	/* DF and the reserved bit are not fragment state; the largest offset */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0xabcd, 0x8000 | 0x4000 | 0x1fff);
	pb_payload(&p, 8);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 max offset: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 max offset: frag_off", pi.frag_off, 0x1fff);
	CHECK_U64("ipv4 max offset: offset", pkt_frag_offset(&pi), 65528);
	CHECK_U64("ipv4 max offset: more", pkt_frag_more(&pi), 0);
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 0xabcd, 0x4000);
	pb_udp(&p, 4000, 5000, 8);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 DF, not a fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv4 DF, not a fragment: frag", pi.frag, PKT_FRAG_NONE);
	CHECK_U64("ipv4 DF, not a fragment: frag_off", pi.frag_off, 0);

	/* first fragment too short for the UDP header */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0x2000);
	pb_payload(&p, 4);
	pb_finish(&p, 0);
	CHECK_U64("ipv4 tiny first fragment: status", parse(&p, &pi), PKT_ERR_UDP_TRUNC);
}

static void test_udp_sctp(void)
{
	struct pb p;
	struct pkt_info pi;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 33333, 53, 29);
	pb_payload(&p, 29);
	pb_finish(&p, 0);
	CHECK_U64("udp dns: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("udp dns: sport", pi.sport, 33333);
	CHECK_U64("udp dns: dport", pi.dport, 53);
	CHECK_U64("udp dns: payload_off", pi.payload_off, 42);
	CHECK_U64("udp dns: payload_len", pi.payload_len, 29);
	CHECK_U64("udp 7 bytes: status", parse_exact(p.b, 41, &pi), PKT_ERR_UDP_TRUNC);
	pb_set16(&p, 16, 20 + 4);
	CHECK_U64("udp ip length leaves 4: status", parse(&p, &pi), PKT_ERR_UDP_TRUNC);

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 132, 5, 1, 0);
	pb_sctp(&p, 36412, 2905);
	pb_payload(&p, 16);
	pb_finish(&p, 0);
	CHECK_U64("sctp: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("sctp: sport", pi.sport, 36412);
	CHECK_U64("sctp: dport", pi.dport, 2905);
	CHECK_U64("sctp: payload_off", pi.payload_off, 46);
	CHECK_U64("sctp: payload_len", pi.payload_len, 16);
	CHECK_U64("sctp 11 bytes: status", parse_exact(p.b, 45, &pi), PKT_ERR_SCTP_TRUNC);
}

static void test_icmp(void)
{
	struct pb p;
	struct pkt_info pi;
	struct flow_key k;

	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, 5, 1, 0);
	pb_icmp(&p, 8, 0, 0x4242, 7);
	pb_payload(&p, 56);
	pb_finish(&p, 0);
	CHECK_U64("icmp echo: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("icmp echo: type", pi.icmp_type, 8);
	CHECK_U64("icmp echo: code", pi.icmp_code, 0);
	CHECK_U64("icmp echo: id", pi.icmp_id, 0x4242);
	CHECK_U64("icmp echo: payload_len", pi.payload_len, 56);
	CHECK_U64("icmp echo: sport = id", pi.sport, 0x4242);
	CHECK_U64("icmp echo: dport = type<<8|code", pi.dport, 0x0800);
	flow_key_from_pkt(&pi, 3, FLOW_DIR_INGRESS, &k);
	CHECK_U64("icmp echo: key sport = id", k.sport, 0x4242);
	CHECK_U64("icmp echo: key dport = type<<8|code", k.dport, 0x0800);
	CHECK_U64("icmp 7 bytes: status", parse_exact(p.b, 41, &pi), PKT_ERR_ICMP_TRUNC);

	/* port unreachable quoting the offending UDP datagram */
	pb_init(&p);
	pb_eth(&p, 0x0800);
	pb_ipv4(&p, 1, 5, 1, 0);
	pb_icmp(&p, 3, 3, 0, 0);
	{
		struct pb inner;
		pb_init(&inner);
		pb_ipv4(&inner, 17, 5, 77, 0);
		pb_udp(&inner, 5000, 6000, 0);
		pb_finish(&inner, 0);
		pb_put(&p, inner.b, inner.len);
	}
	pb_finish(&p, 0);
	CHECK_U64("icmp port unreachable: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("icmp port unreachable: type", pi.icmp_type, 3);
	CHECK_U64("icmp port unreachable: code", pi.icmp_code, 3);
	CHECK_U64("icmp port unreachable: no id", pi.icmp_id, 0);
	CHECK_U64("icmp port unreachable: sport (no id)", pi.sport, 0);
	CHECK_U64("icmp port unreachable: dport (type<<8|code)", pi.dport, 0x0303);
	CHECK_U64("icmp port unreachable: payload_len (quoted datagram)", pi.payload_len, 28);
	flow_key_from_pkt(&pi, 3, FLOW_DIR_INGRESS, &k);
	CHECK_U64("icmp port unreachable: key", (uint32_t)k.sport << 16 | k.dport, 0x0303);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 129, 0, 0x9999, 1);
	pb_finish(&p, 0);
	CHECK_U64("icmpv6 echo reply: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("icmpv6 echo reply: type", pi.icmp_type, 129);
	CHECK_U64("icmpv6 echo reply: id", pi.icmp_id, 0x9999);
	flow_key_from_pkt(&pi, 3, FLOW_DIR_INGRESS, &k);
	CHECK_U64("icmpv6 echo reply: key", (uint32_t)k.sport << 16 | k.dport, 0x99998100);
	CHECK_U64("icmpv6 7 bytes: status", parse_exact(p.b, 14 + 40 + 7, &pi), PKT_ERR_ICMP_TRUNC);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 58);
	pb_icmp(&p, 1, 4, 0x5555, 0); /* port unreachable: the id field is unused */
	pb_finish(&p, 0);
	CHECK_U64("icmpv6 unreachable: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("icmpv6 unreachable: code", pi.icmp_code, 4);
	CHECK_U64("icmpv6 unreachable: no id", pi.icmp_id, 0);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 1); /* ICMPv4 inside IPv6 means nothing */
	pb_icmp(&p, 8, 0, 1, 1);
	pb_finish(&p, 0);
	CHECK_U64("icmpv4 in ipv6: status", parse(&p, &pi), PKT_L4_UNKNOWN);
	flow_key_from_pkt(&pi, 3, FLOW_DIR_INGRESS, &k);
	CHECK_U64("icmpv4 in ipv6: key ports 0", k.sport | k.dport, 0);
}

static void test_ipv6(void)
{
	struct pb p;
	struct pkt_info pi;

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 6);
	pb_tcp(&p, 50000, 443, 5, 6, FLOW_TCP_SYN | FLOW_TCP_ECE | FLOW_TCP_CWR, 10, 1000);
	pb_payload(&p, 10);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 tcp: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 tcp: family", pi.family, 6);
	CHECK_U64("ipv6 tcp: hop limit", pi.ttl, 63);
	CHECK(nm("ipv6 tcp", "saddr"), memcmp(pi.saddr, PB_IP6_SRC, 16) == 0);
	CHECK(nm("ipv6 tcp", "daddr"), memcmp(pi.daddr, PB_IP6_DST, 16) == 0);
	CHECK_U64("ipv6 tcp: l4_off", pi.l4_off, 54);
	CHECK_U64("ipv6 tcp: flags", pi.tcp_flags, FLOW_TCP_SYN | FLOW_TCP_ECE | FLOW_TCP_CWR);
	CHECK_U64("ipv6 tcp: payload_off", pi.payload_off, 54 + 40);
	CHECK_U64("ipv6 tcp: payload_len", pi.payload_len, 10);
	CHECK_U64("ipv6 39 bytes: status", parse_exact(p.b, 14 + 39, &pi), PKT_ERR_IPV6_TRUNC);
	p.b[14] = 0x40;
	CHECK_U64("ipv6 ethertype with version 4: status", parse(&p, &pi), PKT_ERR_BAD_VERSION);

	/* hop-by-hop, routing (24 bytes), destination options, AH, then UDP */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 43, 0);
	pb_ext(&p, 60, 2);
	pb_ext(&p, 51, 1);
	pb_ah(&p, 17, 4); /* 24 bytes */
	pb_udp(&p, 1000, 2000, 3);
	pb_payload(&p, 3);
	pb_finish(&p, 8);
	CHECK_U64("ipv6 ext chain: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 ext chain: n_ext", pi.n_ext, 4);
	CHECK_U64("ipv6 ext chain: proto", pi.proto, 17);
	CHECK_U64("ipv6 ext chain: l4_off", pi.l4_off, 54 + 8 + 24 + 16 + 24);
	CHECK_U64("ipv6 ext chain: sport", pi.sport, 1000);
	CHECK_U64("ipv6 ext chain: dport", pi.dport, 2000);
	CHECK_U64("ipv6 ext chain: payload_len excludes padding", pi.payload_len, 3);
	CHECK_U64("ipv6 ext chain cut in AH: status",
	          parse_exact(p.b, 54 + 8 + 24 + 16 + 20, &pi), PKT_ERR_IPV6_EXT_TRUNC);
	CHECK_U64("ipv6 ext chain cut in first ext: status",
	          parse_exact(p.b, 54 + 7, &pi), PKT_ERR_IPV6_EXT_TRUNC);
	CHECK_U64("ipv6 ext chain cut in routing body: status",
	          parse_exact(p.b, 54 + 8 + 20, &pi), PKT_ERR_IPV6_EXT_TRUNC);
	CHECK_U64("ipv6 ext chain cut in udp: status",
	          parse_exact(p.b, 54 + 72 + 7, &pi), PKT_ERR_UDP_TRUNC);

	/* extension header longer than the payload length says */
	pb_set16(&p, 18, 8 + 16);
	CHECK_U64("ipv6 ext past payload length: status", parse(&p, &pi), PKT_ERR_IPV6_BAD_LEN);

	/* 8 extension headers are followed, a 9th is too many */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 60);
	for (int i = 0; i < 7; i++)
		pb_ext(&p, 60, 0);
	pb_ext(&p, 6, 0);
	pb_tcp(&p, 7, 8, 0, 0, FLOW_TCP_RST, 5, 0);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 8 ext: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 8 ext: n_ext", pi.n_ext, 8);
	CHECK_U64("ipv6 8 ext: flags", pi.tcp_flags, FLOW_TCP_RST);
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 60);
	for (int i = 0; i < 8; i++)
		pb_ext(&p, 60, 0);
	pb_ext(&p, 6, 0);
	pb_tcp(&p, 7, 8, 0, 0, FLOW_TCP_RST, 5, 0);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 9 ext: status", parse(&p, &pi), PKT_ERR_IPV6_EXT_TOO_MANY);

	/* no next header */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 59, 0);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 no next header: status", parse(&p, &pi), PKT_L4_UNKNOWN);
	CHECK_U64("ipv6 no next header: proto", pi.proto, 59);
	CHECK_U64("ipv6 no next header: payload_len", pi.payload_len, 0);
}

static void test_ipv6_frags(void)
{
	struct pb p;
	struct pkt_info pi;

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 44, 0);
	pb_frag6(&p, 17, 0, 1, 0xcafef00d);
	pb_udp(&p, 7000, 8000, 3000);
	pb_payload(&p, 40);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 first fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 first fragment: frag", pi.frag, PKT_FRAG_FIRST);
	CHECK_U64("ipv6 first fragment: id", pi.frag_id, 0xcafef00d);
	CHECK_U64("ipv6 first fragment: proto", pi.proto, 17);
	CHECK_U64("ipv6 first fragment: sport", pi.sport, 7000);
	CHECK_U64("ipv6 first fragment: dport", pi.dport, 8000);
	CHECK_U64("ipv6 first fragment: n_ext", pi.n_ext, 2);
	CHECK_U64("ipv6 first fragment: payload_len", pi.payload_len, 40);
	CHECK_U64("ipv6 first fragment: frag_off", pi.frag_off, PKT_FRAG_MF);
	CHECK_U64("ipv6 first fragment: offset", pkt_frag_offset(&pi), 0);
	CHECK_U64("ipv6 first fragment: more", pkt_frag_more(&pi), 1);
	CHECK_U64("ipv6 fragment header cut: status",
	          parse_exact(p.b, 54 + 8 + 7, &pi), PKT_ERR_IPV6_EXT_TRUNC);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 181, 0, 0xcafef00d);
	pb_payload(&p, 3);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 later fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 later fragment: frag", pi.frag, PKT_FRAG_LATER);
	CHECK_U64("ipv6 later fragment: id", pi.frag_id, 0xcafef00d);
	CHECK_U64("ipv6 later fragment: proto", pi.proto, 17);
	CHECK_U64("ipv6 later fragment: no ports", pi.sport | pi.dport, 0);
	CHECK_U64("ipv6 later fragment: payload_off", pi.payload_off, 62);
	CHECK_U64("ipv6 later fragment: payload_len", pi.payload_len, 3);
	CHECK_U64("ipv6 later fragment: offset", pkt_frag_offset(&pi), 1448);
	CHECK_U64("ipv6 later fragment: more", pkt_frag_more(&pi), 0);

	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 17, 0x1fff, 1, 7);
	pb_payload(&p, 8);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 max offset, more: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 max offset, more: offset", pkt_frag_offset(&pi), 65528);
	CHECK_U64("ipv6 max offset, more: more", pkt_frag_more(&pi), 1);

	/* atomic fragment (offset 0, no MF): parsed through, not a fragment */
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 44);
	pb_frag6(&p, 6, 0, 0, 1);
	pb_tcp(&p, 1, 2, 0, 0, FLOW_TCP_FIN, 5, 0);
	pb_finish(&p, 0);
	CHECK_U64("ipv6 atomic fragment: status", parse(&p, &pi), PKT_OK);
	CHECK_U64("ipv6 atomic fragment: frag", pi.frag, PKT_FRAG_NONE);
	CHECK_U64("ipv6 atomic fragment: flags", pi.tcp_flags, FLOW_TCP_FIN);
	CHECK_U64("ipv6 atomic fragment: frag_off", pi.frag_off, 0);

	/* fragment header with a payload length that cannot hold it */
	pb_set16(&p, 18, 4);
	CHECK_U64("ipv6 fragment past payload length: status", parse(&p, &pi), PKT_ERR_IPV6_BAD_LEN);
}

static void test_l3(void)
{
	struct pb p;
	struct pkt_info pi;

	pb_init(&p);
	pb_zeros(&p, 4); /* e.g. BSD loopback family word */
	pb_ipv4(&p, 17, 5, 1, 0);
	pb_udp(&p, 1, 2, 0);
	pb_finish(&p, 0);
	CHECK_U64("l3 ipv4: status", pkt_parse_l3(p.b, p.b + p.len, 4, 0x0800, &pi), PKT_OK);
	CHECK_U64("l3 ipv4: l3_off", pi.l3_off, 4);
	CHECK_U64("l3 ipv4: l4_off", pi.l4_off, 24);
	CHECK_U64("l3 ipv4: dport", pi.dport, 2);
	CHECK_U64("l3 ipv4: no ethernet", pi.eth_src[0] | pi.eth_dst[0], 0);
	CHECK_U64("l3 offset past end: status", pkt_parse_l3(p.b, p.b + 3, 4, 0x0800, &pi),
	          PKT_ERR_IPV4_TRUNC);
	CHECK_U64("l3 ipv4 as ipv6, too short: status", pkt_parse_l3(p.b, p.b + p.len, 4, 0x86dd, &pi),
	          PKT_ERR_IPV6_TRUNC);

	pb_init(&p);
	pb_ipv6(&p, 132);
	pb_sctp(&p, 9, 10);
	pb_finish(&p, 0);
	CHECK_U64("l3 ipv6: status", pkt_parse_l3(p.b, p.b + p.len, 0, 0x86dd, &pi), PKT_OK);
	CHECK_U64("l3 ipv6: sport", pi.sport, 9);
	CHECK_U64("l3 ipv6 as ipv4: status", pkt_parse_l3(p.b, p.b + p.len, 0, 0x0800, &pi),
	          PKT_ERR_BAD_VERSION);
	CHECK_U64("l3 ipv6: other ethertype", pkt_parse_l3(p.b, p.b + p.len, 0, 0x0806, &pi),
	          PKT_NOT_IP);
}

/* Every prefix of a valid frame fails at the layer where it is cut. */
static void test_every_truncation(void)
{
	struct pb p;
	struct pkt_info pi;
	char name[96];
	int bad = 0;

	/* VLAN + IPv4 (options) + TCP (options) */
	pb_init(&p);
	pb_eth(&p, 0x8100);
	pb_vlan(&p, 10, 0x0800);
	pb_ipv4(&p, 6, 6, 1, 0);
	pb_tcp(&p, 1, 2, 3, 4, FLOW_TCP_ACK, 6, 5);
	pb_payload(&p, 5);
	pb_finish(&p, 0);
	for (size_t n = 0; n < p.len; n++) {
		int want = n < 14 ? PKT_ERR_ETH_TRUNC : n < 18 ? PKT_ERR_VLAN_TRUNC
		         : n < 42 ? PKT_ERR_IPV4_TRUNC : n < 66 ? PKT_ERR_TCP_TRUNC : PKT_OK;
		int st = parse_exact(p.b, n, &pi);
		if (st != want) {
			snprintf(name, sizeof(name), "vlan/ipv4/tcp cut at %zu: status %d want %d", n, st, want);
			CHECK(name, 0);
			bad++;
		}
	}
	CHECK("vlan/ipv4/tcp: every truncation point", bad == 0);

	/* IPv6 + hop-by-hop + fragment (first) + UDP */
	bad = 0;
	pb_init(&p);
	pb_eth(&p, 0x86dd);
	pb_ipv6(&p, 0);
	pb_ext(&p, 44, 1);
	pb_frag6(&p, 17, 0, 1, 5);
	pb_udp(&p, 1, 2, 8);
	pb_payload(&p, 8);
	pb_finish(&p, 0);
	for (size_t n = 0; n < p.len; n++) {
		int want = n < 14 ? PKT_ERR_IPV6_TRUNC + 0 : 0;
		if (n < 14)
			want = PKT_ERR_ETH_TRUNC;
		else if (n < 54)
			want = PKT_ERR_IPV6_TRUNC;
		else if (n < 54 + 16 + 8)
			want = PKT_ERR_IPV6_EXT_TRUNC;
		else if (n < 54 + 24 + 8)
			want = PKT_ERR_UDP_TRUNC;
		else
			want = PKT_OK;
		int st = parse_exact(p.b, n, &pi);
		if (st != want) {
			snprintf(name, sizeof(name), "ipv6/ext/udp cut at %zu: status %d want %d", n, st, want);
			CHECK(name, 0);
			bad++;
		}
	}
	CHECK("ipv6/ext/udp: every truncation point", bad == 0);
}

static void test_names(void)
{
	int ok = 1;
	for (int i = 0; i < PKT_STATUS_MAX; i++) {
		if (strcmp(pkt_status_name(i), "unknown") == 0)
			ok = 0;
		for (int j = 0; j < i; j++)
			if (strcmp(pkt_status_name(i), pkt_status_name(j)) == 0)
				ok = 0;
	}
	CHECK("pkt_status_name: every status named, names distinct", ok);
	CHECK("pkt_status_truncated: tcp_trunc", pkt_status_truncated(PKT_ERR_TCP_TRUNC));
	CHECK("pkt_status_truncated: vlan_trunc", pkt_status_truncated(PKT_ERR_VLAN_TRUNC));
	CHECK("pkt_status_truncated: not bad_ihl", !pkt_status_truncated(PKT_ERR_IPV4_BAD_IHL));
	CHECK("pkt_status_truncated: not ok", !pkt_status_truncated(PKT_OK));
	CHECK("pkt_status_truncated: not out of range", !pkt_status_truncated(200));
	CHECK_STR("pkt_status_name: out of range", pkt_status_name(PKT_STATUS_MAX), "unknown");
	CHECK_STR("pkt_status_name: tcp_bad_doff", pkt_status_name(PKT_ERR_TCP_BAD_DOFF), "tcp_bad_doff");
}

int main(void)
{
	test_ipv4_tcp_syn();
	test_tcp_variants();
	test_vlans();
	test_eth();
	test_ipv4_errors();
	test_ipv4_frags();
	test_udp_sctp();
	test_icmp();
	test_ipv6();
	test_ipv6_frags();
	test_l3();
	test_every_truncation();
	test_names();
	return CHECK_DONE();
}
