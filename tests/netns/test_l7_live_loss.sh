#!/usr/bin/env bash
# Live L7 loss is exact: a deliberately starved payload ring (one page, and
# 64 KiB GSO packets that can never fit) under a burst of HTTP transfers.
# The kernel must count every packet of the selected flows it could not
# hand over (l7_lost_ring_full), flowd must report exactly that many in
# lost_events records (PERF_EVENT_RING_BUFFER), and records handed over +
# packets lost = the packets tcpdump saw on the interface for those flows
# (offloads stay on here, so TC and tcpdump see the same GSO packets).
. "$(dirname "$0")/../lib/testlib.sh"

C=llc$T_ID S=lls$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" || { fail "setup: namespaces"; t_done; }
ip link add "$CI" netns "$C" type veth peer name "$SI" netns "$S" &&
	ip -n "$C" link set "$CI" up && ip -n "$S" link set "$SI" up || { fail "setup: veth"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
check "setup: nginx serves in the server namespace" nginx_start "$S"

for mode in auto off; do
	ev=$T_TMP/loss-$mode.json pcap=$T_TMP/loss-$mode.pcap log=$T_TMP/loss-$mode.log
	flowd_start "$S" "$log" -i "$SI" --xdp-mode "$mode" --poll-interval 100ms --ring-size 4k -e "$ev" ||
		{ fail "$mode: flowd did not start"; continue; }
	bg ip netns exec "$S" tcpdump -Z root -n -U --immediate-mode -B 65536 -s 0 -i "$SI" -w "$pcap" 2>"$pcap.log"
	TCPDUMP_PID=$BG_PID
	wait_until 10 grep -q "listening on" "$pcap.log" || fail "$mode: tcpdump did not start"
	pids=()
	for i in $(seq 10); do
		ip netns exec "$C" curl -s --max-time 10 -o /dev/null http://198.18.0.2/big.bin \
			-o /dev/null http://198.18.0.2/ -o /dev/null http://198.18.0.2/big.bin &
		pids+=($!)
	done
	wait "${pids[@]}"
	sleep 0.5
	check "$mode: tcpdump dropped no packets" tcpdump_stop "$pcap"
	sleep 0.3   # a poll after the burst
	stop_wait "$FLOWD_PID"
	check_eq "$mode: flowd exits 0" "$?" 0

	k() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" "$log"; }
	lost=$(k l7_lost_ring_full) copyerr=$(k l7_lost_copy_error) recs=$(k l7_kernel_records)
	read=$(k l7_records) reported=$(k l7_lost_reported)
	tcpd=$(tcpdump -r "$pcap" -n 'tcp port 80' 2>/dev/null | wc -l)
	notices=$(jq -s '[.[] | select(.lost_events.source == "PERF_EVENT_RING_BUFFER") |
		.lost_events.num_events_lost | tonumber] | add // 0' "$ev")
	check "$mode: the starved ring lost packets (${lost:-?} of $tcpd)" test "${lost:-0}" -gt 0
	check_eq "$mode: no copy errors" "${copyerr:-?}" 0
	check_eq "$mode: records + lost = packets on the wire for port 80" "$(( ${recs:-0} + ${lost:-0} ))" "$tcpd"
	check_eq "$mode: every record written was read" "${read:-?}" "${recs:-!}"
	check_eq "$mode: lost_events report exactly the kernel's count" "$notices" "$lost"
	check_eq "$mode: flowd's reported counter agrees" "${reported:-?}" "$lost"
	check "$mode: lost_events records are well formed" \
		sh -c "grep '\"lost_events\"' '$ev' | head -1 | grep -q '^{\"lost_events\":{\"source\":\"PERF_EVENT_RING_BUFFER\",\"num_events_lost\":\"[0-9]*\"}'"
	check "$mode: flowd still reported L7 events it could follow" test "$(grep -c '"Type":"L7"' "$ev")" -gt 0
done
t_done
