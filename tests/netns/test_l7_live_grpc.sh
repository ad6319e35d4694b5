#!/usr/bin/env bash
# Live L7, gRPC: flowd on the server's veth, python3-grpcio server and client
# (pcaps/http2/grpc_peer.py: unary, server/client/bidi streaming, a
# trailers-only NOT_FOUND, an UNAVAILABLE after two messages, more unary
# calls, all on one channel). flowd must report one request and one response
# event per call, with the gRPC status the client saw, and the same L7 events
# as `flowctl replay` of a tcpdump capture of the same interface.
. "$(dirname "$0")/../lib/testlib.sh"

C=lgc$T_ID S=lgs$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
check "setup: the gRPC server listens" grpc_server_start "$S" 198.18.0.2:50051

ev=$T_TMP/grpc.json pcap=$T_TMP/grpc.pcap log=$T_TMP/grpc.log
flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" || { fail "flowd did not start"; t_done; }
tcpdump_start "$S" "$SI" "$pcap" || fail "tcpdump did not start"
ip netns exec "$C" timeout 30 "$PY" "$GRPC_PEER" client 198.18.0.2:50051 >"$T_TMP/client.log" 2>&1 ||
	fail "the gRPC client failed: $(tail -3 "$T_TMP/client.log")"
sleep 0.3
check "tcpdump dropped no packets" tcpdump_stop "$pcap"
stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0

calls=$(grep -c 'status=' "$T_TMP/client.log")
ok=$(grep -c 'status=0 OK' "$T_TMP/client.log")
check_eq "the client made 9 calls" "$calls" 9
"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/replay.json" || fail "flowctl replay failed"
"$PY" "$TOP/tests/lib/l7_compare.py" grpc "$ev" "$T_TMP/replay.json" \
	--expect "http2.request=$calls" --expect "http2.response=$calls" \
	--expect "grpc.response.0=$ok" --expect "grpc.response.5=1" --expect "grpc.response.14=1" \
	--cut-bytes 0 || T_FAILS=$((T_FAILS + 1))
check "the NOT_FOUND call is summarised" grep -q 'gRPC NOT_FOUND: no such item' "$ev"
check "no ring loss" grep -q ' l7_lost_ring_full=0 ' "$log"
t_done
