/* Unit tests of lib/flow_l34.c: records -> Hubble L3/L4 events. */
#include "check.h"
#include "flow_l34.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#define T0 1700000000000000000ULL /* 2023-11-14T22:13:20Z in ns */

static struct flow_key key4(const char *s, uint16_t sp, const char *d, uint16_t dp, uint8_t proto)
{
	struct flow_key k = { 0 };
	inet_pton(AF_INET, s, k.saddr);
	inet_pton(AF_INET, d, k.daddr);
	k.sport = sp;
	k.dport = dp;
	k.family = 4;
	k.proto = proto;
	k.ifindex = 7;
	return k;
}

static struct flow_key key6(const char *s, uint16_t sp, const char *d, uint16_t dp, uint8_t proto)
{
	struct flow_key k = { 0 };
	inet_pton(AF_INET6, s, k.saddr);
	inet_pton(AF_INET6, d, k.daddr);
	k.sport = sp;
	k.dport = dp;
	k.family = 6;
	k.proto = proto;
	k.ifindex = 9;
	return k;
}

static struct flow_rec rec(uint64_t pkts, uint64_t bytes, uint64_t first, uint64_t last,
                           uint16_t first_flags, uint16_t flags)
{
	struct flow_rec r = { .packets = pkts, .bytes = bytes, .first_seen_ns = first,
		              .last_seen_ns = last, .first_tcp_flags = first_flags, .tcp_flags = flags };
	return r;
}

static void test_tcp_start_end(void)
{
	struct flow_key k = key4("198.18.0.1", 40000, "198.18.0.2", 80, 6);
	struct flow_rec r = rec(5, 420, 1000, 9000, FLOW_TCP_SYN,
	                        FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_PSH | FLOW_TCP_FIN);
	const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 }, dst[6] = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	memcpy(r.eth_src, src, 6);
	memcpy(r.eth_dst, dst, 6);
	struct flow_l34_opts o = { .node_name = "node1", .ifname = "veth0",
		                   .clock_offset_ns = (int64_t)T0, .uuid = "0598f6e1-4542-494c-a061-711065e865dd" };

	struct flow_event *ev = flow_event_new();
	CHECK("tcp start: returns 0", flow_l34_event(ev, FE_STATS_START, &k, &r, NULL, &o) == 0);
	CHECK_U64("tcp start: time = first packet", ev->time_ns, T0 + 1000);
	CHECK_STR("tcp start: uuid", ev->uuid, "0598f6e1-4542-494c-a061-711065e865dd");
	CHECK_U64("tcp start: verdict", ev->verdict, FE_FORWARDED);
	CHECK("tcp start: has ethernet", ev->has_ethernet);
	CHECK_STR("tcp start: eth src", ev->eth_src, "02:00:00:00:00:01");
	CHECK_STR("tcp start: eth dst", ev->eth_dst, "aa:bb:cc:dd:ee:ff");
	CHECK_STR("tcp start: ip src", ev->ip_src, "198.18.0.1");
	CHECK_STR("tcp start: ip dst", ev->ip_dst, "198.18.0.2");
	CHECK_U64("tcp start: ipVersion", ev->ip_version, FE_IPV4);
	CHECK_U64("tcp start: l4", ev->l4, FE_L4_TCP);
	CHECK_U64("tcp start: sport", ev->sport, 40000);
	CHECK_U64("tcp start: dport", ev->dport, 80);
	CHECK_U64("tcp start: first-packet flags", ev->tcp_flags, FLOW_TCP_SYN);
	CHECK_U64("tcp start: Type", ev->type, FE_TYPE_L3_L4);
	CHECK_STR("tcp start: node_name", ev->node_name, "node1");
	CHECK_U64("tcp start: event_type", ev->event_type, 4);
	CHECK_U64("tcp start: sub_type from-network", ev->event_sub_type, 10);
	CHECK_U64("tcp start: observation point", ev->trace_observation_point, FLOW_L34_FROM_NETWORK);
	CHECK_U64("tcp start: direction", ev->traffic_direction, FE_INGRESS);
	CHECK("tcp start: SYN -> original direction", ev->is_reply == 0 && !ev->reply);
	CHECK_U64("tcp start: ifindex", ev->ifindex, 7);
	CHECK_STR("tcp start: ifname", ev->ifname, "veth0");
	CHECK_STR("tcp start: Summary", ev->summary, "TCP Flags: SYN");
	CHECK_U64("tcp start: stats event", ev->stats.event, FE_STATS_START);
	CHECK_U64("tcp start: stats packets", ev->stats.packets, 5);
	CHECK_U64("tcp start: stats bytes", ev->stats.bytes, 420);
	CHECK_U64("tcp start: stats first_seen", ev->stats.first_seen_ns, T0 + 1000);
	CHECK_U64("tcp start: stats last_seen", ev->stats.last_seen_ns, T0 + 9000);
	struct fe_record jr = { .kind = FE_REC_FLOW, .flow = ev };
	struct fe_buf jb = { 0 };
	CHECK("tcp start: encodes", fe_record_to_json(&jr, &jb) == 0);
	CHECK_STR("tcp start: JSON line", jb.data,
	          "{\"flow\":{\"time\":\"2023-11-14T22:13:20.000001Z\","
	          "\"uuid\":\"0598f6e1-4542-494c-a061-711065e865dd\",\"verdict\":\"FORWARDED\","
	          "\"ethernet\":{\"source\":\"02:00:00:00:00:01\",\"destination\":\"aa:bb:cc:dd:ee:ff\"},"
	          "\"IP\":{\"source\":\"198.18.0.1\",\"destination\":\"198.18.0.2\",\"ipVersion\":\"IPv4\"},"
	          "\"l4\":{\"TCP\":{\"source_port\":40000,\"destination_port\":80,\"flags\":{\"SYN\":true}}},"
	          "\"source\":{},\"destination\":{},\"Type\":\"L3_L4\",\"node_name\":\"node1\","
	          "\"event_type\":{\"type\":4,\"sub_type\":10},\"traffic_direction\":\"INGRESS\","
	          "\"trace_observation_point\":\"FROM_NETWORK\",\"is_reply\":false,"
	          "\"interface\":{\"index\":7,\"name\":\"veth0\"},\"Summary\":\"TCP Flags: SYN\","
	          "\"flow_stats\":{\"event\":\"start\",\"packets\":5,\"bytes\":420,"
	          "\"first_seen\":\"2023-11-14T22:13:20.000001Z\",\"last_seen\":\"2023-11-14T22:13:20.000009Z\"}},"
	          "\"node_name\":\"node1\",\"time\":\"2023-11-14T22:13:20.000001Z\"}\n");
	fe_buf_free(&jb);
	flow_event_free(ev);

	ev = flow_event_new();
	k.direction = FLOW_DIR_EGRESS;
	CHECK("tcp end: returns 0", flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, &o) == 0);
	CHECK_U64("tcp end: time = last packet", ev->time_ns, T0 + 9000);
	CHECK_U64("tcp end: union of flags", ev->tcp_flags,
	          FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_PSH | FLOW_TCP_FIN);
	CHECK_STR("tcp end: Summary in Hubble's flag order", ev->summary,
	          "TCP Flags: SYN, ACK, FIN, PSH");
	CHECK_U64("tcp end: direction", ev->traffic_direction, FE_EGRESS);
	CHECK_U64("tcp end: observation point", ev->trace_observation_point, FLOW_L34_TO_NETWORK);
	CHECK_U64("tcp end: stats event", ev->stats.event, FE_STATS_END);
	flow_event_free(ev);

	/* The reply of the same connection. */
	struct flow_key rk;
	CHECK("tcp reverse key exists", flow_key_reverse(&k, &rk));
	CHECK("tcp reverse key swaps addresses and ports",
	      rk.sport == 80 && rk.dport == 40000 && memcmp(rk.saddr, k.daddr, 16) == 0 &&
	              memcmp(rk.daddr, k.saddr, 16) == 0 && rk.ifindex == 7 && rk.direction == k.direction);
	struct flow_rec rr = rec(4, 3000, 2000, 8000, FLOW_TCP_SYN | FLOW_TCP_ACK, FLOW_TCP_SYN | FLOW_TCP_ACK);
	ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_START, &rk, &rr, &r, &o);
	CHECK("tcp reply: SYN+ACK -> reply", ev->is_reply == 1 && ev->reply);
	CHECK_STR("tcp reply: Summary", ev->summary, "TCP Flags: SYN, ACK");
	flow_event_free(ev);

	/* No link layer: no ethernet object. */
	memset(r.eth_src, 0, 6);
	memset(r.eth_dst, 0, 6);
	ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_UPDATE, &k, &r, NULL, NULL);
	CHECK("no MACs: no ethernet", !ev->has_ethernet);
	CHECK("no opts: no node, no ifname, no uuid, times as given",
	      !ev->node_name && !ev->ifname && !ev->uuid[0] && ev->time_ns == 9000);
	flow_event_free(ev);
}

static void test_is_reply_heuristics(void)
{
	struct flow_key k;
	struct flow_rec mid = rec(10, 1000, 100, 200, FLOW_TCP_ACK, FLOW_TCP_ACK | FLOW_TCP_PSH);
	struct flow_rec syn = rec(1, 60, 50, 50, FLOW_TCP_SYN, FLOW_TCP_SYN);
	struct flow_rec synack = rec(1, 60, 60, 60, FLOW_TCP_SYN | FLOW_TCP_ACK, FLOW_TCP_SYN | FLOW_TCP_ACK);
	struct flow_rec ecn_syn = rec(1, 60, 50, 50, FLOW_TCP_SYN | FLOW_TCP_ECE | FLOW_TCP_CWR, FLOW_TCP_SYN);

	k = key4("198.18.0.1", 40000, "198.18.0.2", 80, 6);
	CHECK_U64("is_reply: ECN SYN -> original", flow_l34_is_reply(&k, &ecn_syn, NULL), 0);
	/* Handshake seen only in the reverse direction beats the ports
	 * (active FTP: the server connects from port 20 to the client). */
	k = key4("198.18.0.1", 40000, "198.18.0.2", 20, 6);
	CHECK_U64("is_reply: reverse first packet SYN -> reply, whatever the ports",
	          flow_l34_is_reply(&k, &mid, &syn), 1);
	k = key4("198.18.0.2", 20, "198.18.0.1", 40000, 6);
	CHECK_U64("is_reply: reverse first packet SYN+ACK -> original, whatever the ports",
	          flow_l34_is_reply(&k, &mid, &synack), 0);
	CHECK_U64("is_reply: own SYN, whatever the ports", flow_l34_is_reply(&k, &syn, NULL), 0);
	/* Mid-stream TCP: ports decide. */
	k = key4("198.18.0.2", 80, "198.18.0.1", 40000, 6);
	CHECK_U64("is_reply: mid-stream from well-known port", flow_l34_is_reply(&k, &mid, NULL), 1);
	k = key4("198.18.0.1", 40000, "198.18.0.2", 80, 6);
	CHECK_U64("is_reply: mid-stream to well-known port", flow_l34_is_reply(&k, &mid, NULL), 0);
	k = key4("198.18.0.1", 45000, "198.18.0.2", 8080, 6);
	CHECK_U64("is_reply: ephemeral -> registered", flow_l34_is_reply(&k, &mid, NULL), 0);
	k = key4("198.18.0.2", 8080, "198.18.0.1", 45000, 6);
	CHECK_U64("is_reply: registered -> ephemeral", flow_l34_is_reply(&k, &mid, NULL), 1);
	k = key4("198.18.0.2", 5000, "198.18.0.1", 6000, 6);
	CHECK_U64("is_reply: same rank, lower port is the server", flow_l34_is_reply(&k, &mid, NULL), 1);
	k = key4("198.18.0.1", 6000, "198.18.0.2", 5000, 6);
	CHECK_U64("is_reply: same rank, to the lower port", flow_l34_is_reply(&k, &mid, NULL), 0);
	/* UDP: ports, then timing for equal ports. */
	k = key4("198.18.0.2", 53, "198.18.0.1", 5353, 17);
	CHECK_U64("is_reply: udp from 53", flow_l34_is_reply(&k, &mid, NULL), 1);
	k = key4("198.18.0.1", 123, "198.18.0.2", 123, 17);
	struct flow_rec early = rec(1, 90, 10, 10, 0, 0), late = rec(1, 90, 20, 20, 0, 0);
	CHECK_U64("is_reply: equal ports, no reverse -> original", flow_l34_is_reply(&k, &late, NULL), 0);
	CHECK_U64("is_reply: equal ports, reverse seen first -> reply", flow_l34_is_reply(&k, &late, &early), 1);
	CHECK_U64("is_reply: equal ports, seen first -> original", flow_l34_is_reply(&k, &early, &late), 0);
	CHECK("is_reply: equal ports, same time -> unknown", flow_l34_is_reply(&k, &early, &early) == -1);
	/* No ports (GRE): timing. */
	k = key4("198.18.0.1", 0, "198.18.0.2", 0, 47);
	CHECK_U64("is_reply: gre, reverse seen first", flow_l34_is_reply(&k, &late, &early), 1);
}

static void test_icmp(void)
{
	struct flow_key k = key4("198.18.0.1", 0x1234, "198.18.0.2", 8 << 8, 1), rk;
	struct flow_rec r = rec(3, 294, 10, 30, 0, 0);
	struct flow_event *ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, NULL);
	CHECK_U64("icmp echo request: l4", ev->l4, FE_L4_ICMPV4);
	CHECK("icmp echo request: type 8 code 0", ev->icmp_type == 8 && ev->icmp_code == 0);
	CHECK_U64("icmp echo request: original", ev->is_reply, 0);
	CHECK_STR("icmp echo request: Summary", ev->summary, "ICMPv4 EchoRequest");
	flow_event_free(ev);
	CHECK("icmp echo request: reverse is echo reply, same id",
	      flow_key_reverse(&k, &rk) && rk.dport == 0 && rk.sport == 0x1234 &&
	              memcmp(rk.saddr, k.daddr, 16) == 0);
	CHECK_U64("icmp echo reply: reply", flow_l34_is_reply(&rk, &r, NULL), 1);

	k = key4("198.18.0.2", 0, "198.18.0.1", 3 << 8 | 1, 1);
	ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_START, &k, &r, NULL, NULL);
	CHECK("icmp unreachable: type 3 code 1", ev->icmp_type == 3 && ev->icmp_code == 1);
	CHECK_U64("icmp unreachable: related, not reply", ev->is_reply, 0);
	CHECK_STR("icmp unreachable: Summary", ev->summary, "ICMPv4 DestinationUnreachable(Host)");
	flow_event_free(ev);
	CHECK("icmp unreachable: no reverse", !flow_key_reverse(&k, &rk));
	k = key4("198.18.0.1", 0, "198.18.0.2", 13 << 8, 1);
	CHECK("icmp timestamp: reverse is 14", flow_key_reverse(&k, &rk) && rk.dport == 14 << 8);

	k = key6("2001:db8::1", 77, "2001:db8::2", 128 << 8, 58);
	ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_START, &k, &r, NULL, NULL);
	CHECK_U64("icmpv6 echo: l4", ev->l4, FE_L4_ICMPV6);
	CHECK_U64("icmpv6 echo: ipVersion", ev->ip_version, FE_IPV6);
	CHECK_STR("icmpv6 echo: src", ev->ip_src, "2001:db8::1");
	CHECK_STR("icmpv6 echo: Summary", ev->summary, "ICMPv6 EchoRequest");
	flow_event_free(ev);
	CHECK("icmpv6 echo: reverse 129", flow_key_reverse(&k, &rk) && rk.dport == 129 << 8 && rk.sport == 77);
	k.dport = 135 << 8;
	CHECK("icmpv6 NS: reverse NA", flow_key_reverse(&k, &rk) && rk.dport == 136 << 8);
	CHECK_U64("icmpv6 NA: reply", flow_l34_is_reply(&rk, &r, NULL), 1);
	k.dport = 143 << 8;
	CHECK("icmpv6 MLDv2 report: no reverse", !flow_key_reverse(&k, &rk));
	CHECK_U64("icmpv6 MLDv2 report: reply to a query", flow_l34_is_reply(&k, &r, NULL), 1);
	k.dport = 1 << 8 | 4;
	CHECK_U64("icmpv6 port unreachable: original", flow_l34_is_reply(&k, &r, NULL), 0);
}

static void test_other_protocols(void)
{
	struct flow_rec r = rec(2, 200, 10, 20, 0, 0);
	struct flow_key k = key6("2001:db8::1", 5000, "2001:db8::2", 36412, 132);
	struct flow_event *ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, NULL);
	CHECK("sctp: ports", ev->l4 == FE_L4_SCTP && ev->sport == 5000 && ev->dport == 36412);
	CHECK_STR("sctp: Summary", ev->summary, "SCTP");
	flow_event_free(ev);

	k = key4("198.18.0.1", 5353, "198.18.0.2", 53, 17);
	ev = flow_event_new();
	flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, NULL);
	CHECK("udp: ports", ev->l4 == FE_L4_UDP && ev->sport == 5353 && ev->dport == 53 && !ev->tcp_flags);
	CHECK_STR("udp: Summary", ev->summary, "UDP");
	flow_event_free(ev);

	k = key4("198.18.0.1", 0, "198.18.0.2", 0, 47);
	ev = flow_event_new();
	CHECK("gre: returns 0", flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, NULL) == 0);
	CHECK("gre: no l4 object, has IP", ev->l4 == FE_L4_NONE && ev->has_ip);
	flow_event_free(ev);

	k.family = 0;
	ev = flow_event_new();
	CHECK("family 0: -EINVAL", flow_l34_event(ev, FE_STATS_END, &k, &r, NULL, NULL) == -EINVAL);
	flow_event_free(ev);
}

static void check_addr(const char *text, const char *want)
{
	uint8_t a[16] = { 0 };
	char out[46], name[128];
	inet_pton(AF_INET6, text, a);
	flow_addr_format(6, a, out);
	snprintf(name, sizeof(name), "addr %s -> %s", text, want);
	CHECK_STR(name, out, want);
}

static void test_addr_format(void)
{
	check_addr("2001:db8::1", "2001:db8::1");
	check_addr("::", "::");
	check_addr("::1", "::1");
	check_addr("::2", "::2"); /* glibc inet_ntop would print ::0.0.0.2 */
	check_addr("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1");
	check_addr("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	check_addr("2001:db8:1:1:1:1:0:1", "2001:db8:1:1:1:1:0:1");
	check_addr("2001:0db8:00a0:0000:0000:0000:0000:0000", "2001:db8:a0::");
	check_addr("::ffff:198.18.0.1", "198.18.0.1");
	check_addr("fe80::abcd:ef01", "fe80::abcd:ef01");
	uint8_t v4[16] = { 198, 19, 255, 254 };
	char out[46];
	flow_addr_format(4, v4, out);
	CHECK_STR("addr v4", out, "198.19.255.254");
}

static void test_merge_uuid_clock(void)
{
	struct flow_rec cpu[3] = {
		rec(2, 120, 500, 900, FLOW_TCP_ACK, FLOW_TCP_ACK | FLOW_TCP_PSH),
		rec(0, 0, 0, 0, 0, 0),
		rec(1, 60, 400, 400, FLOW_TCP_SYN, FLOW_TCP_SYN),
	};
	cpu[2].eth_src[0] = 0x42;
	struct flow_rec acc = { 0 };
	for (int i = 0; i < 3; i++)
		flow_rec_merge(&acc, &cpu[i]);
	CHECK_U64("merge: packets", acc.packets, 3);
	CHECK_U64("merge: bytes", acc.bytes, 180);
	CHECK_U64("merge: first_seen", acc.first_seen_ns, 400);
	CHECK_U64("merge: last_seen", acc.last_seen_ns, 900);
	CHECK_U64("merge: flags union", acc.tcp_flags, FLOW_TCP_SYN | FLOW_TCP_ACK | FLOW_TCP_PSH);
	CHECK_U64("merge: first flags from the earliest CPU", acc.first_tcp_flags, FLOW_TCP_SYN);
	CHECK_U64("merge: MAC from the earliest CPU", acc.eth_src[0], 0x42);

	uint8_t b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(0xf0 + i);
	char u[37];
	flow_uuid_v4(b, u);
	CHECK_STR("uuid v4 layout", u, "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff");

	struct timespec r, m;
	int64_t off = flow_clock_offset_ns();
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	int64_t direct = ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
	CHECK("clock offset within 1 ms of realtime - monotonic", llabs(direct - off) < 1000000);
}

int main(void)
{
	test_tcp_start_end();
	test_is_reply_heuristics();
	test_icmp();
	test_other_protocols();
	test_addr_format();
	test_merge_uuid_clock();
	return CHECK_DONE();
}
