#!/usr/bin/env bash
# flowd on a veth with real traffic (curl to nginx, ping, UDP; IPv4 and IPv6)
# against tcpdump on the same interface: per directional 5-tuple, the packets
# and bytes of flowd's end events must equal tcpdump's, packet for packet and
# byte for byte (tests/lib/flow_compare.py). Four set-ups: XDP ingress with
# flows ending by idle timeout; TC ingress (--xdp-mode off) with flows ending
# at SIGTERM; XDP in skb mode with active-timeout updates; flow churn
# (every datagram a flow of its own, ended while the next one arrives).
. "$(dirname "$0")/../lib/testlib.sh"

C=fdc$T_ID S=fds$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
addr_add "$C" "$CI" 2001:db8::1/64; addr_add "$S" "$SI" 2001:db8::2/64
check "setup: nginx serves in the server namespace" nginx_start "$S"

# The traffic of one case; its flows (see --expect below):
#   tcp4=6 (3 connections), tcp6=4 (2), icmp4=2, icmp6=2, udp4=2, udp6=2
traffic() {
	local p
	bg ip netns exec "$S" "$PY" "$TOP/tests/lib/udp_pair.py" server 198.18.0.2 9999 20 5 >/dev/null
	bg ip netns exec "$S" "$PY" "$TOP/tests/lib/udp_pair.py" server 2001:db8::2 9999 10 5 >/dev/null
	sleep 0.2
	for p in / /big.bin /status/; do
		ip netns exec "$C" curl -s -o /dev/null --max-time 5 "http://198.18.0.2$p"
	done
	for p in / /big.bin; do
		ip netns exec "$C" curl -s -o /dev/null --max-time 5 "http://[2001:db8::2]$p"
	done
	ip netns exec "$C" ping -q -c 4 -i 0.2 198.18.0.2 >/dev/null
	ip netns exec "$C" ping -q -c 3 -i 0.2 2001:db8::2 >/dev/null
	ip netns exec "$C" "$PY" "$TOP/tests/lib/udp_pair.py" client 198.18.0.2 9999 20 200 0.01 >/dev/null
	ip netns exec "$C" "$PY" "$TOP/tests/lib/udp_pair.py" client 2001:db8::2 9999 10 1200 0.05 >/dev/null
	sleep 0.3 # last ACKs
}

# Flow churn: a datagram every 250 ms against a 100 ms idle timeout, so each
# one starts and ends its own flow (eviction races packets all the time).
churn() {
	bg ip netns exec "$S" "$PY" "$TOP/tests/lib/udp_pair.py" server 198.18.0.2 9998 12 5 >/dev/null
	sleep 0.2
	ip netns exec "$C" "$PY" "$TOP/tests/lib/udp_pair.py" client 198.18.0.2 9998 12 300 0.25 40000 >/dev/null
	sleep 0.3
}

# run_case NAME WAIT FLOWD_ARGS...: observe the traffic with flowd and
# tcpdump, wait WAIT seconds, stop both, compare. TRAFFIC (default
# traffic) and EXPECT (the flows per class) may be set for one case.
run_case() {
	local name=$1 wait_s=$2; shift 2
	local gen=${TRAFFIC:-traffic} expect=${EXPECT:-tcp4=6,tcp6=4,icmp4=2,icmp6=2,udp4=2,udp6=2}
	local ev=$T_TMP/$name.json pcap=$T_TMP/$name.pcap log=$T_TMP/$name.log
	if ! flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" "$@"; then
		fail "$name: flowd did not start"
		return
	fi
	tcpdump_start "$S" "$SI" "$pcap" || { fail "$name: tcpdump did not start"; return; }
	$gen
	check "$name: tcpdump dropped no packets" tcpdump_stop "$pcap"
	sleep "$wait_s"
	stop_wait "$FLOWD_PID"
	check_eq "$name: flowd exits 0 on SIGTERM" "$?" 0
	"$PY" "$TOP/tests/lib/flow_compare.py" "$name" "$ev" "$pcap" --server 198.18.0.2,2001:db8::2 \
		--expect "$expect" || T_FAILS=$((T_FAILS + 1))
	check "$name: counters logged at exit" grep -q 'flowd: counters: flows_active=0 ' "$log"
}

# 1. XDP (native on veth) + TC egress; every flow ends by the idle timeout.
run_case xdp-idle 1.5 --idle-timeout 1s
check "xdp-idle: XDP attached in native mode" grep -q "ingress XDP native mode, egress TC" "$T_TMP/xdp-idle.log"
n_idle=$(grep -c '"event":"end"' "$T_TMP/xdp-idle.json")
check "xdp-idle: flows ended by idle timeout before SIGTERM ($n_idle end events)" \
	test "$(grep -c '"event":"end"' "$T_TMP/xdp-idle.json")" -ge 18

# 2. TC ingress and egress; flows still live at SIGTERM end there.
run_case tc-sigterm 0 --xdp-mode off --idle-timeout 60s
check "tc-sigterm: TC on both hooks" grep -q "ingress TC, egress TC" "$T_TMP/tc-sigterm.log"

# 3. XDP in skb (generic) mode; the slow UDP flow gets active-timeout updates.
run_case skb-updates 0 --xdp-mode skb --idle-timeout 60s --active-timeout 300ms
check "skb-updates: XDP attached in skb mode" grep -q "ingress XDP skb mode" "$T_TMP/skb-updates.log"
check "skb-updates: update events emitted" grep -q '"event":"update"' "$T_TMP/skb-updates.json"

# 4. Churn: every datagram is a flow of its own, ended while the next comes.
TRAFFIC=churn EXPECT=udp4=2 run_case churn 0.3 --idle-timeout 100ms --poll-interval 50ms
check "churn: flows ended and restarted (>= 20 end events)" \
	test "$(grep -c '"destination_port":9998}}.*"event":"end"\|"source_port":9998,.*"event":"end"' "$T_TMP/churn.json")" -ge 20

t_done
