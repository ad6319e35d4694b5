#!/usr/bin/env bash
# flowd on a veth with real traffic (curl to nginx, ping), queried live with
# flowctl over flowd's socket: `observe --last N` returns exactly what flowd
# exported, --protocol/--port filters (applied by flowd) give the expected
# flows, a follower sees new connections as they happen, `flowctl status`
# shows the ring, the interface, the BPF programs' run counts and the
# exporter with the same figures.
. "$(dirname "$0")/../lib/testlib.sh"

C=obc$T_ID S=obs$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
# IPv4 only, and a quiet link: with IPv6 on, the kernel's router
# solicitations and MLD reports come at times of their own and made an
# event appear between two reads that must agree (--last 3 vs the file).
ip netns exec "$C" sysctl -qw "net.ipv6.conf.$CI.disable_ipv6=1"
ip netns exec "$S" sysctl -qw "net.ipv6.conf.$SI.disable_ipv6=1"
check "setup: nginx serves in the server namespace" nginx_start "$S"

SOCK=$T_TMP/run/flowd.sock
EV=$T_TMP/events.json
OBS=("$FLOWCTL" observe --socket "$SOCK")
obs() { "${OBS[@]}" "$@"; }
if ! flowd_start "$S" "$T_TMP/flowd.log" -i "$SI" --poll-interval 100ms --idle-timeout 1s -e "$EV" \
	--socket "$SOCK" --ring-capacity 1023 --bpf-stats --node-name live-node; then
	fail "flowd did not start"
	t_done
fi
check "flowd announced its socket" grep -q "^flowd: socket $SOCK for flowctl, ring of 1023 events$" "$T_TMP/flowd.log"
check_eq "socket mode 0660" "$(stat -c %a "$SOCK")" 660

# 5 HTTP connections and 2 pings (4 echo requests)
for i in 1 2 3 4 5; do
	ip netns exec "$C" curl -s -o /dev/null --max-time 5 "http://198.18.0.2/"
done
ip netns exec "$C" ping -q -c 2 -i 0.2 198.18.0.2 >/dev/null
ip netns exec "$C" ping -q -c 2 -i 0.2 198.18.0.2 >/dev/null
# every flow has ended (idle timeout 1 s) when each of the 5 + 5 TCP flows and
# the 4 ICMP flows has its end event
ends() { obs --all --protocol "$1" -o json | grep -c '"event":"end"'; }
all_ended() { [ "$(ends tcp)" -eq 10 ] && [ "$(ends icmpv4)" -eq 4 ]; }
wait_until 10 all_ended
check_eq "10 TCP flows ended (5 connections, both directions)" "$(ends tcp)" 10
check_eq "4 ICMPv4 flows ended (2 pings, both directions)" "$(ends icmpv4)" 4

# the ring holds exactly what flowd exported (flowd writes the file from
# the same records; wait until the writer has caught up)
wait_until 5 sh -c "[ \$(wc -l <'$EV') -eq \$('$FLOWCTL' observe --socket '$SOCK' --all -o json | wc -l) ]"
n=$(wc -l <"$EV")
check "events were exported" [ "$n" -ge 28 ]
check_eq "--last $n -o json = the export file, byte for byte" "$(obs --last "$n" -o json)" "$(cat "$EV")"
check_eq "--last 3 = the file's last 3 events" "$(obs --last 3)" "$("$FLOWCTL" observe --input-file "$EV" --last 3)"
check_eq "--first 4 = the file's first 4" "$(obs --first 4)" "$("$FLOWCTL" observe --input-file "$EV" --first 4)"

# filters, applied by flowd
starts() { obs --all "$@" -o json | grep -c '"event":"start"'; }
check_eq "--to-port 80: 5 client->server connections" "$(starts --to-port 80)" 5
check_eq "--from-port 80: 5 server->client ones" "$(starts --from-port 80)" 5
check_eq "--port 80: both" "$(starts --port 80)" 10
check_eq "--protocol tcp --port 80 --traffic-direction ingress" "$(starts --protocol tcp --port 80 --traffic-direction ingress)" 5
check_eq "--protocol udp: none" "$(obs --all --protocol udp | wc -l)" 0
check_eq "--protocol icmpv4 --from-ip 198.18.0.1: the echo requests" "$(starts --protocol icmpv4 --from-ip 198.18.0.1)" 2
check_eq "--port 80 --not --protocol tcp: nothing" "$(obs --all --port 80 --not --protocol tcp | wc -l)" 0
# L7 events of the same traffic (flowd's live HTTP parsing), filtered by flowd
check_eq "--protocol http --http-method get: 5 requests" "$(obs --all --protocol http --http-method get -o json | grep -c '"type":"REQUEST"')" 5
check_eq "--http-status 2+: 5 responses" "$(obs --all --http-status 2+ -o json | grep -c '"code":200')" 5
check_eq "--type l7 --not --http-status 200: only requests" "$(obs --all --type l7 --not --http-status 200 -o json | grep -vc '"type":"REQUEST"')" 0
line=$(obs --last 1 --to-port 80 --tcp-flags syn)
check "compact line of a client connection" grep -qE \
	"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:.]{12}: 198\.18\.0\.1:[0-9]+ \(unknown\) -> 198\.18\.0\.2:80 \(unknown\) from-network FORWARDED \(TCP Flags: [A-Z, ]*SYN" <<<"$line"
check_eq "--print-node-name" "$(obs --last 1 -o dict --print-node-name | sed -n 2p)" "       NODE: live-node"

# a follower sees new connections
"${OBS[@]}" -f --to-port 80 -o json >"$T_TMP/follow" & F=$!
T_PIDS+=("$F")
sleep 0.3
ip netns exec "$C" curl -s -o /dev/null --max-time 5 "http://198.18.0.2/"
ip netns exec "$C" curl -s -o /dev/null --max-time 5 "http://198.18.0.2/"
wait_until 10 sh -c "[ \$(grep -c '\"event\":\"end\"' '$T_TMP/follow') -ge 2 ]"
kill -INT "$F"; wait "$F"; rc=$?
check_eq "follower: exit 0 on Ctrl-C" "$rc" 0
check_eq "follower: 2 new connections started" "$(grep -c '"event":"start"' "$T_TMP/follow")" 2
check_eq "follower: and ended" "$(grep -c '"event":"end"' "$T_TMP/follow")" 2
check_eq "follower: only port 80 as destination" "$(grep -vc '"destination_port":80[,}]' "$T_TMP/follow")" 0

# status
wait_until 5 sh -c "[ \$(wc -l <'$EV') -eq \$('$FLOWCTL' observe --socket '$SOCK' --all -o json | wc -l) ]"
st=$("$FLOWCTL" status --socket "$SOCK")
n=$(wc -l <"$EV")
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
check_eq "status: ring occupancy" "$(echo "$st" | sed -n 2p)" "Current/Max Flows: $(group "$n")/1,023 ($(awk -v n="$n" 'BEGIN { printf "%.2f", 100 * n / 1023 }')%)"
check_eq "status: seen flows = exported" "$(echo "$st" | grep '^Seen Flows:')" "Seen Flows: $(group "$n")"
check_eq "status: exporter wrote them all" "$(echo "$st" | grep -o 'Written: [0-9,]* events' | tr -d ,)" "Written: $n events"
check_eq "status: no loss" "$(echo "$st" | grep -A3 '^Lost Events:' | grep -c ': 0$')" 3
ifx=$(ip netns exec "$S" cat /sys/class/net/"$SI"/ifindex)
check "status: interface and hooks" grep -qE "^  $SI \(ifindex $ifx\): ingress XDP (native|skb) mode, egress TC$" <<<"$st"
check "status: run time counted (--bpf-stats)" grep -q '^BPF Programs (run time counted by the kernel):$' <<<"$st"
check "status: the XDP program ran" grep -qE '^  [0-9]+ +xdp +flow_xdp +[1-9][0-9,]* +[0-9.]+(ns|µs|ms|s) +[0-9.]+ns$' <<<"$st"
check "status: the TC egress program ran" grep -qE '^  [0-9]+ +sched_cls +flow_tc_egress +[1-9][0-9,]* ' <<<"$st"
# the counting programs run once per packet (no GSO here); flow_tc_capture
# (L7 payload capture) runs next to XDP on ingress and counts nothing
pk=$("$FLOWCTL" status --socket "$SOCK" -o json | $PY -c 'import json,sys; d=json.load(sys.stdin); print(sum(int(p["run_cnt"]) for p in d["bpf_programs"] if p["name"] != "flow_tc_capture") == int(d["counters"]["packets"]))')
check_eq "status: program runs = packets counted by the programs" "$pk" True

stop_wait "$FLOWD_PID"
check "socket removed when flowd stops" [ ! -e "$SOCK" ]

# bad values of the new flowd options: exit 2, one clear line
bad() {
	local want=$1 msg rc; shift
	msg=$("$FLOWD" -i "$SI" "$@" 2>&1); rc=$?
	msg=$(head -1 <<<"$msg")
	check_eq "flowd $*: exit 2" "$rc" 2
	check_eq "flowd $*: message" "$msg" "flowd: $want"
}
bad "--ring-capacity: '1000' is not 2^n-1 (1023, 4095, 16383, 65535, ...)" --ring-capacity 1000
bad "--socket: 'rel/x' is not an absolute path (or none)" --socket rel/x
bad "--export-file-max-size: '10X' is not a size (e.g. 65536, 512k, 10M)" --export-file-max-size 10X
bad '--export-denylist: invalid --denylist flag: unknown field "nope"' --export-denylist '{"nope":["1"]}'
bad '--export-fieldmask: invalid field mask path "sauce": unknown field "sauce"' --export-fieldmask time,sauce
t_done
