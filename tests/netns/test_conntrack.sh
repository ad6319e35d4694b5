#!/usr/bin/env bash
# Conntrack/NAT enrichment (lib/conntrack.c) against the kernel: a client,
# a router and a server namespace; the router DNATs 198.18.0.1:8080 to the
# server 198.19.0.2:80 (and UDP :5300 to :53) and SNATs what leaves towards
# the server to 198.19.0.1 (the server has no route back to the client).
# Real traffic (curl -> python http.server, a UDP datagram); the conntrack
# module, subscribed in the router namespace before the traffic starts,
# must report exactly these tuples, find the connection from all four
# places along the path, and answer on-demand queries.
. "$(dirname "$0")/../lib/testlib.sh"
HELPER=$BUILD/tests/test_conntrack
if [ "$(id -u)" != 0 ]; then
	fail "conntrack: needs root (network namespaces)"
	t_done
fi
[ -x "$HELPER" ] || { fail "conntrack: $HELPER not built"; t_done; }

C=ctc$T_ID R=ctr$T_ID S=cts$T_ID
netns_add "$C" && netns_add "$R" && netns_add "$S" || { fail "conntrack: namespaces"; t_done; }
ip link add vc$T_ID netns "$C" type veth peer name vrc$T_ID netns "$R"
ip link add vs$T_ID netns "$S" type veth peer name vrs$T_ID netns "$R"
ip -n "$C" addr add 198.18.0.2/24 dev vc$T_ID
ip -n "$R" addr add 198.18.0.1/24 dev vrc$T_ID
ip -n "$R" addr add 198.19.0.1/24 dev vrs$T_ID
ip -n "$S" addr add 198.19.0.2/24 dev vs$T_ID
for l in "$C vc$T_ID" "$R vrc$T_ID" "$R vrs$T_ID" "$S vs$T_ID"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$C" route add default via 198.18.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" nft -f - <<NFT || fail "conntrack: nft rules"
table ip flowdtest {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 198.18.0.1 tcp dport 8080 dnat to 198.19.0.2:80
		ip daddr 198.18.0.1 udp dport 5300 dnat to 198.19.0.2:53
	}
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "vrs$T_ID" snat to 198.19.0.1
	}
}
NFT

mkdir -p "$T_TMP/www" && echo hello >"$T_TMP/www/index.html"
bg ip netns exec "$S" "$PY" -m http.server 80 --bind 198.19.0.2 --directory "$T_TMP/www"
for _ in $(seq 50); do
	ip netns exec "$S" "$PY" -c 'import socket; socket.create_connection(("198.19.0.2", 80), 0.2)' 2>/dev/null && break
	sleep 0.1
done

TCP_ORIG=tcp,198.18.0.2,40123,198.18.0.1,8080
TCP_ORIG_POST=tcp,198.19.0.1,40123,198.19.0.2,80
TCP_REPLY=tcp,198.19.0.2,80,198.19.0.1,40123
TCP_REPLY_POST=tcp,198.18.0.1,8080,198.18.0.2,40123
UDP_ORIG=udp,198.18.0.2,40124,198.18.0.1,5300
UDP_POST=udp,198.19.0.1,40124,198.19.0.2,53
OTHER=tcp,198.18.0.2,40999,198.18.0.1,8080

DONE=$T_TMP/done
bg ip netns exec "$R" "$HELPER" watch "$DONE" 20 $TCP_ORIG $TCP_ORIG_POST $TCP_REPLY $TCP_REPLY_POST \
	$UDP_ORIG $UDP_POST $OTHER >"$T_TMP/watch.out" 2>&1
WATCH=$BG_PID
for _ in $(seq 50); do grep -q ready "$T_TMP/watch.out" && break; sleep 0.1; done
check "conntrack: subscribed" grep -q ready "$T_TMP/watch.out"

code=$(ip netns exec "$C" curl -s -o /dev/null -w '%{http_code}' --max-time 5 --local-port 40123 \
	http://198.18.0.1:8080/index.html)
check_eq "conntrack: curl through DNAT+SNAT" "$code" 200
ip netns exec "$C" "$PY" - <<'PYEOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", 40124))
s.sendto(b"x" * 12, ("198.18.0.1", 5300))
PYEOF
sleep 0.5   # the last ACK of the TCP close, the UDP event
touch "$DONE"
wait "$WATCH"

JS='"original":{"source":"198.18.0.2","source_port":40123,"destination":"198.18.0.1","destination_port":8080},"reply":{"source":"198.19.0.2","source_port":80,"destination":"198.19.0.1","destination_port":40123}'
TUP='tcp 198.18.0.2:40123 -> 198.18.0.1:8080 | tcp 198.19.0.2:80 -> 198.19.0.1:40123'
UJS='"original":{"source":"198.18.0.2","source_port":40124,"destination":"198.18.0.1","destination_port":5300},"reply":{"source":"198.19.0.2","source_port":53,"destination":"198.19.0.1","destination_port":40124}'
UTUP='udp 198.18.0.2:40124 -> 198.18.0.1:5300 | udp 198.19.0.2:53 -> 198.19.0.1:40124'
cat >"$T_TMP/want" <<EOF
ready
$TCP_ORIG => orig-pre-nat | $TUP | xlated=198.19.0.1 | {"state":"TIME_WAIT","nat":["SNAT","DNAT"],$JS,"direction":"original"}
$TCP_ORIG_POST => orig-post-nat | $TUP | xlated=- | {"state":"TIME_WAIT","nat":["SNAT","DNAT"],$JS,"direction":"original"}
$TCP_REPLY => reply-pre-nat | $TUP | xlated=- | {"state":"TIME_WAIT","nat":["SNAT","DNAT"],$JS,"direction":"reply"}
$TCP_REPLY_POST => reply-post-nat | $TUP | xlated=- | {"state":"TIME_WAIT","nat":["SNAT","DNAT"],$JS,"direction":"reply"}
$UDP_ORIG => orig-pre-nat | $UTUP | xlated=198.19.0.1 | {"nat":["SNAT","DNAT"],$UJS,"direction":"original"}
$UDP_POST => orig-post-nat | $UTUP | xlated=- | {"nat":["SNAT","DNAT"],$UJS,"direction":"original"}
$OTHER => none
stats: new>=2 yes, dumped 0, overruns 0
EOF
if diff -u "$T_TMP/want" "$T_TMP/watch.out" >"$T_TMP/diff"; then
	pass "conntrack: events give the exact tuples, found from all four places"
else
	fail "conntrack: events: $(cat "$T_TMP/diff")"
fi

# on demand, without events or a dump: the kernel still has the entries
ip netns exec "$R" "$HELPER" get $TCP_REPLY $UDP_ORIG $OTHER >"$T_TMP/get.out" 2>&1
cat >"$T_TMP/want" <<EOF
$TCP_REPLY => reply-pre-nat | $TUP | xlated=- | {"state":"TIME_WAIT","nat":["SNAT","DNAT"],$JS,"direction":"reply"}
$UDP_ORIG => orig-pre-nat | $UTUP | xlated=198.19.0.1 | {"nat":["SNAT","DNAT"],$UJS,"direction":"original"}
$OTHER => none
stats: queries 3, hits 2, dumped 0
EOF
if diff -u "$T_TMP/want" "$T_TMP/get.out" >"$T_TMP/diff"; then
	pass "conntrack: on-demand queries"
else
	fail "conntrack: on-demand: $(cat "$T_TMP/diff")"
fi

# conntrack(8), an independent reader of the same kernel table, agrees
k=$(ip netns exec "$R" conntrack -L -p tcp --orig-port-src 40123 2>/dev/null | head -1)
case "$k" in
*"src=198.18.0.2 dst=198.18.0.1 sport=40123 dport=8080"*"src=198.19.0.2 dst=198.19.0.1 sport=80 dport=40123"*)
	pass "conntrack: conntrack(8) shows the same translation" ;;
*)
	fail "conntrack: conntrack(8) shows: $k" ;;
esac
t_done
