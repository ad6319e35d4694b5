#!/usr/bin/env bash
# Live L7, Kafka: flowd on the broker side's veth, librdkafka's mock cluster
# (build/tools/kafka_mock, the real Kafka protocol) as the broker and kcat
# as the client: produce, consume, a consumer group, metadata. The broker
# listens on loopback; nftables NAT makes it 198.18.0.11:9092 on the veth
# (as pcaps/kafka/make_captures.sh does). flowd must report one request and
# one response event per request kcat logged sending and per response it
# logged receiving, and the same L7 events as `flowctl replay` of a tcpdump
# capture of the same interface.
. "$(dirname "$0")/../lib/testlib.sh"
[ -x "$BUILD/tools/kafka_mock" ] || { fail "kafka: $BUILD/tools/kafka_mock not built (make test builds it)"; t_done; }

C=lkc$T_ID S=lks$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.2/24; addr_add "$S" "$SI" 198.18.0.11/24
check "setup: the mock cluster listens, as 198.18.0.11:9092" \
	kafka_start "$S" "$SI" 198.18.0.11 "$C" "$CI" -w 60 -t orders:2 -t payments:1

ev=$T_TMP/kafka.json pcap=$T_TMP/kafka.pcap log=$T_TMP/kafka.log
flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" || { fail "flowd did not start"; t_done; }
tcpdump_start "$S" "$SI" "$pcap" || fail "tcpdump did not start"

KLOG=$T_TMP/kcat.log
KC() { ip netns exec "$C" timeout 20 kcat -b 198.18.0.11:9092 -d protocol "$@" 2>>"$KLOG"; }
for i in $(seq 0 19); do echo "k$i:order-$i"; done | KC -P -t orders -K: -X linger.ms=50
for i in $(seq 0 4); do echo "k$i:payment-$i"; done | KC -P -t payments -K: -X linger.ms=50
KC -C -t orders -o beginning -e -q >/dev/null
KC -G live-group -o beginning -e -q -X enable.auto.commit=true -X auto.commit.interval.ms=200 \
	orders payments >/dev/null
KC -L -t orders >/dev/null
sleep 0.5
check "tcpdump dropped no packets" tcpdump_stop "$pcap"
stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0

sent=$(grep -cE 'Sent [A-Za-z]+Request \(v[0-9]+' "$KLOG")
recv=$(grep -cE 'Received [A-Za-z]+Response \(v[0-9]+' "$KLOG")
produce=$(grep -cE 'Sent ProduceRequest \(v[0-9]+' "$KLOG")
check "kcat logged its requests ($sent sent, $recv received, $produce produce)" \
	test "$sent" -ge 30 -a "$produce" -ge 2
"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/replay.json" || fail "flowctl replay failed"
"$PY" "$TOP/tests/lib/l7_compare.py" kafka "$ev" "$T_TMP/replay.json" \
	--expect "kafka.request=$sent" --expect "kafka.response=$recv" \
	--expect "kafka.produce.request=$produce" --cut-bytes 0 || T_FAILS=$((T_FAILS + 1))
check "topic names are there" grep -q '"topic":"payments"' "$ev"
check "no ring loss" grep -q ' l7_lost_ring_full=0 ' "$log"
t_done
