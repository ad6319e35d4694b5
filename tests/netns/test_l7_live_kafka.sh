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
MOCK=$BUILD/tools/kafka_mock
[ -x "$MOCK" ] || { fail "kafka: $MOCK not built (make test builds it)"; t_done; }

C=lkc$T_ID S=lks$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.2/24; addr_add "$S" "$SI" 198.18.0.11/24
for n in "$S:$SI" "$C:$CI"; do
	ip netns exec "${n%%:*}" sysctl -qw net.ipv4.conf.all.route_localnet=1
	ip netns exec "${n%%:*}" sysctl -qw "net.ipv4.conf.${n#*:}.route_localnet=1"
done

bg ip netns exec "$S" "$MOCK" -b 1 -w 60 -t orders:2 -t payments:1 >"$T_TMP/mock.out" 2>"$T_TMP/mock.err"
check "setup: the mock cluster listens" wait_until 10 grep -q '^bootstrap=' "$T_TMP/mock.out"
PORT=$(sed -n 's/^bootstrap=.*://p' "$T_TMP/mock.out")
ip netns exec "$S" nft -f - <<EOF || fail "setup: nft (broker side)"
table ip kafka_live {
	chain pre { type nat hook prerouting priority -100; iifname "$SI" ip daddr 198.18.0.11 tcp dport 9092 dnat to 127.0.0.1:$PORT; }
}
EOF
ip netns exec "$C" nft -f - <<EOF || fail "setup: nft (client side)"
table ip kafka_live {
	chain out { type nat hook output priority -100; ip daddr 127.0.0.1 tcp dport $PORT dnat to 198.18.0.11:9092; }
	chain post { type nat hook postrouting priority 100; oifname "$CI" ip saddr 127.0.0.1 masquerade; }
}
EOF

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
