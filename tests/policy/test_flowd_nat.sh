#!/usr/bin/env bash
# flowd on a NAT router: a client, a router and a server namespace; the
# router DNATs 198.18.0.1:8080 to the server 198.19.0.2:80 (nftables) and
# SNATs towards the server to 198.19.0.1. flowd observes both router
# interfaces with conntrack: the client-side flows carry the translation
# (IP.source_xlated, flow.conntrack with both tuples), the server-side flows
# are tied to the same connection, the DNAT gives a TRANSLATED event
# (client -> backend), and --no-conntrack leaves all of it out.
. "$(dirname "$0")/../lib/testlib.sh"
export LC_ALL=C
if [ "$(id -u)" != 0 ]; then
	fail "flowd nat: needs root (network namespaces, XDP, conntrack)"
	t_done
fi

C=fnc$T_ID R=fnr$T_ID S=fns$T_ID
VC=nc$T_ID VRC=nrc$T_ID VS=ns$T_ID VRS=nrs$T_ID
netns_add "$C" && netns_add "$R" && netns_add "$S" || { fail "setup: namespaces"; t_done; }
veth_pair "$C" "$VC" "$R" "$VRC" && veth_pair "$S" "$VS" "$R" "$VRS" || { fail "setup: veths"; t_done; }
addr_add "$C" "$VC" 198.18.0.2/24; addr_add "$R" "$VRC" 198.18.0.1/24
addr_add "$R" "$VRS" 198.19.0.1/24; addr_add "$S" "$VS" 198.19.0.2/24
ip -n "$C" route add default via 198.18.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
ip netns exec "$R" nft -f - <<NFT || fail "setup: nft rules"
table ip flowdnat {
	chain pre {
		type nat hook prerouting priority dstnat;
		ip daddr 198.18.0.1 tcp dport 8080 dnat to 198.19.0.2:80
	}
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "$VRS" snat to 198.19.0.1
	}
}
NFT
mkdir -p "$T_TMP/www" && echo hello >"$T_TMP/www/index.html"
bg ip netns exec "$S" "$PY" -m http.server 80 --bind 198.19.0.2 --directory "$T_TMP/www" >/dev/null 2>&1
wait_until 10 ip netns exec "$S" "$PY" -c 'import socket; socket.create_connection(("198.19.0.2", 80), 0.2)' ||
	fail "setup: http server"

IDS=$T_TMP/ids.yaml
cat >"$IDS" <<'YAML'
endpoints:
  - {addresses: [198.18.0.2], namespace: shop, pod: client-0, labels: {app: client}}
  - {addresses: [198.19.0.2], namespace: shop, pod: backend-0, labels: {app: backend}}
YAML

# run NAME PORT FLOWD_ARGS...: flowd on both router interfaces, one curl
# through the DNAT from client port PORT, stop, events in $T_TMP/NAME.json
run() {
	local name=$1 port=$2; shift 2
	local log=$T_TMP/$name.log
	if ! flowd_start "$R" "$log" -i "$VRC" -i "$VRS" --identities "$IDS" -e "$T_TMP/$name.json" \
		--poll-interval 100ms --stats-interval 0 "$@"; then
		fail "$name: flowd did not start"
		return 1
	fi
	code=$(ip netns exec "$C" curl -s -o /dev/null -w '%{http_code}' --max-time 5 --local-port "$port" \
		http://198.18.0.1:8080/index.html)
	check_eq "$name: curl through DNAT+SNAT" "$code" 200
	sleep 0.5
	stop_wait "$FLOWD_PID"
	check_eq "$name: flowd exits 0" "$?" 0
}

run nat 40123 || t_done
J=$T_TMP/nat.json
ORIG='{"source":"198.18.0.2","source_port":40123,"destination":"198.18.0.1","destination_port":8080}'
REPLY='{"source":"198.19.0.2","source_port":80,"destination":"198.19.0.1","destination_port":40123}'
# one line per directional flow's start event: interface, hook, addresses,
# xlated source, conntrack direction and tuples
got=$(jq -r --arg o "$ORIG" --arg r "$REPLY" 'select(.flow.flow_stats.event=="start" and .flow.l4.TCP) |
	[.flow.interface.name, .flow.traffic_direction,
	 .flow.IP.source + ":" + (.flow.l4.TCP.source_port|tostring), .flow.IP.destination + ":" + (.flow.l4.TCP.destination_port|tostring),
	 (.flow.IP.source_xlated // "-"), .flow.conntrack.direction, (.flow.conntrack.nat|join("+")),
	 ((.flow.conntrack.original|tojson) == $o), ((.flow.conntrack.reply|tojson) == $r)] | join(" ")' "$J" | sort)
check_eq "nat: every flow of the connection carries its translation" "$got" \
"$(sort <<EOF
$VRC INGRESS 198.18.0.2:40123 198.18.0.1:8080 198.19.0.1 original SNAT+DNAT true true
$VRC EGRESS 198.18.0.1:8080 198.18.0.2:40123 - reply SNAT+DNAT true true
$VRS EGRESS 198.19.0.1:40123 198.19.0.2:80 - original SNAT+DNAT true true
$VRS INGRESS 198.19.0.2:80 198.19.0.1:40123 - reply SNAT+DNAT true true
EOF
)"
got=$(jq -r 'select(.flow.verdict=="TRANSLATED") | [.flow.Type, (.flow.event_type|tojson), .flow.sock_xlate_point,
	.flow.IP.source, .flow.IP.source_xlated, .flow.IP.destination, (.flow.l4.TCP.destination_port|tostring),
	.flow.source.pod_name, .flow.destination.pod_name, .flow.Summary] | join(" ")' "$J")
check_eq "nat: one TRANSLATED event, client -> backend" "$got" \
	"SOCK {\"type\":7} SOCK_XLATE_POINT_POST_DIRECTION_FWD 198.18.0.2 198.19.0.1 198.19.0.2 80 client-0 backend-0 TCP"
line=$("$FLOWCTL" observe --input-file "$J" -o compact --verdict TRANSLATED | sed 's/^[A-Z][a-z][a-z] [ 0-9]* [0-9:.]*: //')
check_eq "nat: compact TRANSLATED line, as Hubble prints a service translation" "$line" \
	"shop/client-0:40123 (ID:$(jq -r 'select(.flow.verdict=="TRANSLATED") | .flow.source.identity' "$J")) <> shop/backend-0:80 (ID:$(jq -r 'select(.flow.verdict=="TRANSLATED") | .flow.destination.identity' "$J")) post-xlate-fwd TRANSLATED (TCP)"
check_eq "nat: observe --snat-ip 198.19.0.1 finds the client's flow" \
	"$("$FLOWCTL" observe --input-file "$J" --snat-ip 198.19.0.1 -t trace -o json | jq -r '.flow.flow_stats.event' | sort -u | tr '\n' ' ')" \
	"end start "
ct=$(ip netns exec "$R" conntrack -L -p tcp --orig-port-src 40123 2>/dev/null | head -1)
case "$ct" in
*"src=198.18.0.2 dst=198.18.0.1 sport=40123 dport=8080"*"src=198.19.0.2 dst=198.19.0.1 sport=80 dport=40123"*)
	pass "nat: conntrack(8), an independent reader, shows the same tuples" ;;
*) fail "nat: conntrack(8) shows '$ct'" ;;
esac
check "nat: counters say conntrack matched flows" grep -q 'conntrack_matched=[1-9]' "$T_TMP/nat.log"

run nonat 40124 --no-conntrack || t_done
check_eq "no-conntrack: no translation on any event" \
	"$(jq -r 'select(.flow.conntrack or .flow.IP.source_xlated or .flow.verdict=="TRANSLATED") | 1' "$T_TMP/nonat.json" | wc -l)" 0
check_eq "no-conntrack: the flows are still there" \
	"$(jq -r 'select(.flow.flow_stats.event=="start" and .flow.l4.TCP) | 1' "$T_TMP/nonat.json" | wc -l)" 4
t_done
