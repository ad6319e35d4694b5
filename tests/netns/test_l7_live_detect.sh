#!/usr/bin/env bash
# Live L7 on ports nobody configured (--l7-detect): flowd captures the first
# payload packets of every TCP/UDP flow; an HTTP server on port 9999 is
# recognised in them, its connection and every later one to it are then
# captured in full (all transactions reported, the same as replay), while a
# binary protocol on port 7000 is given up after its probe window (only a
# few of its packets reach flowd).
. "$(dirname "$0")/../lib/testlib.sh"

C=ltc$T_ID S=lts$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
mkdir -p "$T_TMP/www" && echo "hello" >"$T_TMP/www/index.html"
bg ip netns exec "$S" "$PY" -m http.server 9999 --bind 198.18.0.2 --directory "$T_TMP/www" >/dev/null 2>&1
bg ip netns exec "$S" "$PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", 7000)); s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(4096)
    if not d:
        break
    c.sendall(d)
'
check "setup: servers listen" wait_until 5 ip netns exec "$S" sh -c 'ss -ltnH | grep -q ":9999 " && ss -ltnH | grep -q ":7000 "'

ev=$T_TMP/detect.json pcap=$T_TMP/detect.pcap log=$T_TMP/detect.log
flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" --l7-detect 4 ||
	{ fail "flowd did not start"; t_done; }
tcpdump_start "$S" "$SI" "$pcap" || fail "tcpdump did not start"
# 30 binary messages each way, one at a time
ip netns exec "$C" "$PY" -c '
import os, socket, time
s = socket.create_connection(("198.18.0.2", 7000))
for i in range(30):
    s.sendall(b"\x00\x01\xfe" + os.urandom(97))
    n = 0
    while n < 100:
        n += len(s.recv(4096))
    time.sleep(0.005)
s.close()
'
CODES=$T_TMP/codes
for p in /index.html /nope /index.html; do
	ip netns exec "$C" curl -s -o /dev/null --max-time 5 -w '%{http_code}\n' "http://198.18.0.2:9999$p" >>"$CODES"
done
sleep 0.3
check "tcpdump dropped no packets" tcpdump_stop "$pcap"
stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0
check_eq "curl saw 200 404 200" "$(tr '\n' ' ' <"$CODES")" "200 404 200 "

"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/replay.json" || fail "flowctl replay failed"
"$PY" "$TOP/tests/lib/l7_compare.py" detect "$ev" "$T_TMP/replay.json" \
	--expect "http.request=3" --expect "http.response=3" --expect "http.response.200=2" \
	--expect "http.response.404=1" --cut-bytes 0 || T_FAILS=$((T_FAILS + 1))
k() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" "$log" | tail -1; }
check_eq "one server detected" "$(k l7_detected_servers)" 1
check "its first connection's flows turned on ($(k l7_detected_flows))" test "$(k l7_detected_flows)" -ge 1
check "flows probed ($(k l7_flows_probed))" test "$(k l7_flows_probed)" -ge 4
t9999=$(tcpdump -r "$pcap" -n 'tcp port 9999' 2>/dev/null | wc -l)
t7000=$(tcpdump -r "$pcap" -n 'tcp port 7000' 2>/dev/null | wc -l)
r7000=$(( $(k l7_kernel_records) - t9999 ))
check "port 9999: every packet captured, port 7000: only its probe window ($r7000 of $t7000 packets)" \
	test "$r7000" -ge 8 -a "$r7000" -le 24 -a "$t7000" -ge 60
t_done
