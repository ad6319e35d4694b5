#!/usr/bin/env bash
# Live L7, DNS: flowd on the server's veth, dnsmasq answering for
# example.test (local names, NXDOMAIN for the rest of the zone), dig as the
# client over UDP and TCP, IPv4 and IPv6 transport. flowd must report one
# query and one response event per dig exchange, with the right rcodes,
# and the same L7 events as `flowctl replay` of a tcpdump capture of the
# same interface. The veths' MTU is 1280 and big.example.test has a 3 KB
# TXT record: its answers (dig +bufsize=4096, IPv4 and IPv6) leave the
# server in fragments, which the TC program hands over (later fragments by
# the kernel's frag_ports) and the pipeline reassembles. Then the client
# pings the addresses the answers gave:
# the L3/L4 events of those flows carry the names (destination_names on
# the requests, source_names on the replies), as replay's do.
. "$(dirname "$0")/../lib/testlib.sh"

C=ldc$T_ID S=lds$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
addr_add "$C" "$CI" 2001:db8::1/64; addr_add "$S" "$SI" 2001:db8::2/64
# www.example.test's addresses live on the server too: pings reach them
addr_add "$S" "$SI" 198.18.0.80/24; addr_add "$S" "$SI" 2001:db8::80/64
ip -n "$C" link set "$CI" mtu 1280; ip -n "$S" link set "$SI" mtu 1280
big_txt=big.example.test
for i in $(seq 1 12); do big_txt+=",\"string $i: $(printf '%0240d' "$i")\""; done
dnsmasq_start "$S" --listen-address=198.18.0.2 --listen-address=2001:db8::2 --local=/example.test/ \
	--host-record=www.example.test,198.18.0.80,2001:db8::80 --address=/api.example.test/198.18.0.81 \
	--edns-packet-max=4096 --txt-record="$big_txt"
check "setup: dnsmasq answers" wait_until 5 sh -c \
	"ip netns exec $C dig +short +time=1 +tries=1 @198.18.0.2 www.example.test A | grep -q 198.18.0.80"

ev=$T_TMP/dns.json pcap=$T_TMP/dns.pcap log=$T_TMP/dns.log
flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" || { fail "flowd did not start"; t_done; }
tcpdump_start "$S" "$SI" "$pcap" || fail "tcpdump did not start"

# dig_q ARGS...: one exchange; its rcode (NOERROR, NXDOMAIN, ...) appended to $RCODES
RCODES=$T_TMP/rcodes
: >"$RCODES"
dig_q() {
	ip netns exec "$C" dig +time=2 +tries=1 "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p' >>"$RCODES"
}
dig_q @198.18.0.2 www.example.test A
dig_q @198.18.0.2 www.example.test AAAA
dig_q @198.18.0.2 api.example.test A
dig_q @198.18.0.2 nothing.example.test A
dig_q @198.18.0.2 other.example.test MX
dig_q @198.18.0.2 +tcp www.example.test A
dig_q @198.18.0.2 +tcp nothing.example.test A
dig_q @2001:db8::2 www.example.test AAAA
dig_q @2001:db8::2 +tcp api.example.test A
dig_q @198.18.0.2 +bufsize=4096 big.example.test TXT
dig_q @2001:db8::2 +bufsize=4096 big.example.test TXT
ip netns exec "$C" ping -c 2 -i 0.2 -W 1 198.18.0.80 >/dev/null || fail "ping 198.18.0.80"
ip netns exec "$C" ping -c 2 -i 0.2 -W 1 2001:db8::80 >/dev/null || fail "ping 2001:db8::80"
sleep 0.3
check "tcpdump dropped no packets" tcpdump_stop "$pcap"
stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0

n=$(grep -c . "$RCODES")
check_eq "dig made 11 exchanges" "$n" 11
check_eq "dig saw 3 NXDOMAIN" "$(grep -c NXDOMAIN "$RCODES")" 3
"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/replay.json" || fail "flowctl replay failed"
"$PY" "$TOP/tests/lib/l7_compare.py" dns "$ev" "$T_TMP/replay.json" \
	--expect "dns.query=$n" --expect "dns.response=$n" \
	--expect "dns.response.0=$(grep -c NOERROR "$RCODES")" --expect "dns.response.3=3" ||
	T_FAILS=$((T_FAILS + 1))
check "the A answer is there" grep -q '"query":"www.example.test.","ips":\["198.18.0.80"\]' "$ev"
check "the AAAA answer is there" grep -q '"query":"www.example.test.","ips":\["2001:db8::80"\]' "$ev"
frags=$(tshark -n -r "$pcap" -Y "ip.flags.mf == 1 || ip.frag_offset > 0 || ipv6.fraghdr" 2>/dev/null | wc -l)
check "the big answers were fragmented on the wire ($frags fragments)" test "$frags" -ge 6
big() { jq -c 'select(.flow.l7.type == "RESPONSE" and .flow.l7.dns.query == "big.example.test.") |
	[.flow.IP.ipVersion, .flow.l7.dns.rrtypes]' "$1" | sort | tr -d '\n'; }
check_eq "the fragmented TXT answers are there, IPv4 and IPv6" "$(big "$ev")" \
	'["IPv4",["TXT"]]["IPv6",["TXT"]]'
check "no ring loss" grep -q ' l7_lost_ring_full=0 ' "$log"

# names_of FILE: "source destination source_names destination_names" of
# every ICMP L3/L4 event between the test hosts (not the multicast
# listener reports sent before the capture started), sorted and unique
names_of() {
	jq -r 'def host: startswith("198.18.") or startswith("2001:db8:");
		select(.flow.Type == "L3_L4" and (.flow.l4.ICMPv4 // .flow.l4.ICMPv6) and
		(.flow.IP.source | host) and (.flow.IP.destination | host)) |
		.flow | "\(.IP.source) \(.IP.destination) \(.source_names // [] | join(",")) \(.destination_names // [] | join(","))"' \
		"$1" | sort -u
}
names_of "$ev" >"$T_TMP/names.live"
names_of "$T_TMP/replay.json" >"$T_TMP/names.replay"
for want in "198.18.0.1 198.18.0.80  www.example.test" "198.18.0.80 198.18.0.1 www.example.test " \
	"2001:db8::1 2001:db8::80  www.example.test" "2001:db8::80 2001:db8::1 www.example.test "; do
	check "L3/L4 names: $want" grep -qxF "$want" "$T_TMP/names.live"
done
check "L3/L4 names: live = replay" diff "$T_TMP/names.live" "$T_TMP/names.replay"
# counter NAME: its value in flowd's last counters line (the exit summary)
counter() { grep 'flowd: counters:' "$log" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check_eq "counter dns_cache_entries (www, api: v4 and v6)" "$(counter dns_cache_entries)" 3
check_eq "counter pipeline.l7.detected.dns (one per dig)" "$(counter pipeline.l7.detected.dns)" "$n"
check_eq "counter pipeline.events.l7" "$(counter pipeline.events.l7)" $((2 * n))
check_eq "counter pipeline.udp.datagrams (8 exchanges over UDP)" "$(counter pipeline.udp.datagrams)" 16
check_eq "counter pipeline.udp.reassembled (the 2 big answers)" "$(counter pipeline.udp.reassembled)" 2
check_eq "counter pipeline.udp.fragmented = the fragments on the wire" "$(counter pipeline.udp.fragmented)" "$frags"
for c in timeouts overlaps truncated malformed limit_drops discarded_fragments; do
	check_eq "counter pipeline.ip_reasm.$c" "$(counter pipeline.ip_reasm.$c)" 0
done
t_done
