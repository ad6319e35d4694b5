#!/usr/bin/env bash
# A full flow table degrades visibly: with --map-size 64 (80 slots) and 300 new UDP
# flows, flowd warns at once, the map_full counters rise, and no packet goes
# unaccounted: the kernel's packet counter equals the packets of all end
# events plus those counted as map_full, no_key or lost.
. "$(dirname "$0")/../lib/testlib.sh"

C=fmc$T_ID S=fms$T_ID SI=m$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" n$T_ID "$S" "$SI" || { fail "setup"; t_done; }
addr_add "$C" n$T_ID 198.18.3.1/24; addr_add "$S" "$SI" 198.18.3.2/24
# A static neighbour: no ARP needed, so every packet of the test is UDP.
ip -n "$C" neigh add 198.18.3.2 lladdr "$(ip netns exec "$S" cat /sys/class/net/$SI/address)" dev n$T_ID

ev=$T_TMP/events.json log=$T_TMP/flowd.log
flowd_start "$S" "$log" -i "$SI" --map-size 64 --poll-interval 100ms --idle-timeout 60s -e "$ev" \
	|| { fail "flowd did not start"; t_done; }
ip netns exec "$C" "$PY" "$TOP/tests/lib/udp_pair.py" spray 198.18.3.2 9 300 >/dev/null
sleep 0.5
stop_wait "$FLOWD_PID"
check_eq "exit 0" "$?" 0
check "warned that the map is full" grep -q "flowd: warning: the flow table is full (--map-size 64): [0-9]* packets of new flows were counted only per interface" "$log"
counter() { grep 'flowd: counters:' "$log" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
check "map_full_packets > 0 ($(counter map_full_packets))" test "$(counter map_full_packets)" -gt 0
slots=$(sed -n 's/.*flow table 64 flows (\([0-9]*\) slots).*/\1/p' "$log")
check "no more flows than the table's $slots slots ($(counter flows_started))" \
	test "$(counter flows_started)" -le "${slots:-0}"
sum=$("$PY" -c '
import json, sys
print(sum(json.loads(l)["flow"]["flow_stats"]["packets"] for l in open(sys.argv[1])
          if json.loads(l)["flow"]["flow_stats"]["event"] == "end"))' "$ev")
total=$(counter packets)
accounted=$((sum + $(counter map_full_packets) + $(counter no_key_packets) + $(counter lost_packets)))
check_eq "every packet accounted for: packets = end events + map_full + no_key + lost" "$accounted" "$total"
check "at least the 300 datagrams were seen ($total)" test "$total" -ge 300
t_done
