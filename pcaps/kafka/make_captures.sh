#!/usr/bin/env bash
# Makes the Kafka captures of this folder from real clients and a real
# Kafka protocol implementation, inside private network namespaces:
#
#   client netns (198.18.0.2)  --veth--  server netns (brokers 198.18.0.11..13:9092)
#     kcat (librdkafka 2.0.2)              build/tools/kafka_mock: librdkafka's
#     python3-kafka (kafka-python 2.0.2)   mock cluster (rd_kafka_mock_cluster_new)
#
# The mock brokers listen on 127.0.0.1:<random port> and advertise that
# address; nftables NAT makes them reachable as 198.18.0.1X:9092 from the
# client namespace (server: DNAT to loopback, route_localnet; client: the
# advertised 127.0.0.1:<port> is DNATed back to 198.18.0.1X:9092), so the
# capture on the client's veth shows ordinary client/broker traffic.
#
# Per scenario NAME it writes NAME.pcap and NAME.clientlog (the clients'
# own record of every request sent / response received, for the cross-check
# in tests/l7/test_kafka_pcaps.sh). Needs root; cleans up on any exit.
#
#   pcaps/kafka/make_captures.sh [SCENARIO...]     (default: all)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../tests/lib/testlib.sh"
OUT=${OUT:-$HERE}
MOCK=$BUILD/tools/kafka_mock
[ "$(id -u)" = 0 ] || { echo "make_captures.sh: needs root" >&2; exit 1; }
make -s -C "$TOP" "$MOCK" >/dev/null || exit 1

BROKER_IPS=(198.18.0.11 198.18.0.12 198.18.0.13)
CLIENT_IP=198.18.0.2

die() { echo "make_captures.sh: $*" >&2; exit 1; }

# net_up N: the two namespaces, the veth, addresses, no offloads (segments as
# the wire carries them). Names are new per scenario: deleting a namespace
# is not instantaneous.
net_up() {
	S=kfs$T_ID$1 C=kfc$T_ID$1 VS=kvs$T_ID$1 VC=kvc$T_ID$1
	netns_add "$S" && netns_add "$C" || die "netns"
	ip link add "$VS" netns "$S" type veth peer name "$VC" netns "$C" || die "veth"
	for ip in "${BROKER_IPS[@]}"; do ip -n "$S" addr add "$ip/24" dev "$VS"; done
	ip -n "$C" addr add "$CLIENT_IP/24" dev "$VC"
	ip -n "$S" link set "$VS" up
	ip -n "$C" link set "$VC" up
	local n
	for n in "$S:$VS" "$C:$VC"; do
		ip netns exec "${n%%:*}" ethtool -K "${n#*:}" tso off gso off gro off tx off rx off >/dev/null 2>&1
		ip netns exec "${n%%:*}" sysctl -qw net.ipv4.conf.all.route_localnet=1
		ip netns exec "${n%%:*}" sysctl -qw "net.ipv4.conf.${n#*:}.route_localnet=1"
	done
}

net_down() {
	local n
	for n in "$C" "$S"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		sleep 0.3
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	T_NETNS=()
}

# mock_up ARGS...: start the mock cluster (3 brokers) and the NAT that maps
# broker i to ${BROKER_IPS[i]}:9092. Sets BOOT.
mock_up() {
	ip netns exec "$S" "$MOCK" -b 3 -w 120 "$@" >"$T_TMP/mock.out" 2>"$T_TMP/mock.err" &
	MOCK_PID=$!
	T_PIDS+=("$MOCK_PID")
	wait_until 15 line_written "$T_TMP/mock.out" '^bootstrap='
	local ports
	ports=$(sed -n 's/^bootstrap=//p' "$T_TMP/mock.out" | tr ',' '\n' | sed 's/.*://')
	[ "$(echo "$ports" | wc -l)" = 3 ] || die "mock cluster did not start: out=[$(cat "$T_TMP/mock.out")] err=[$(cat "$T_TMP/mock.err")] alive=$(kill -0 "$MOCK_PID" 2>/dev/null && echo yes)"
	local srules="" crules="" k=0 p
	for p in $ports; do
		srules+="iifname \"$VS\" ip daddr ${BROKER_IPS[$k]} tcp dport 9092 dnat to 127.0.0.1:$p;"
		crules+="ip daddr 127.0.0.1 tcp dport $p dnat to ${BROKER_IPS[$k]}:9092;"
		k=$((k + 1))
	done
	ip netns exec "$S" nft -f - <<-EOF || die "nft server"
	table ip kafka_mock {
		chain pre { type nat hook prerouting priority -100; $srules }
	}
	EOF
	ip netns exec "$C" nft -f - <<-EOF || die "nft client"
	table ip kafka_mock {
		chain out { type nat hook output priority -100; $crules }
		chain post { type nat hook postrouting priority 100; oifname "$VC" ip saddr 127.0.0.1 masquerade; }
	}
	EOF
	BOOT=${BROKER_IPS[0]}:9092
	MOCK_PORTS=$ports
}

# cap_start: capture the client's veth; returns once tcpdump listens (a
# fixed sleep lost the first packets when tcpdump started slowly).
cap_start() {
	ip netns exec "$C" tcpdump -i "$VC" -s 0 -U --immediate-mode -w "$T_TMP/cap.pcap" 'tcp port 9092' \
		>/dev/null 2>"$T_TMP/cap.log" &
	CAP_PID=$!
	T_PIDS+=("$CAP_PID")
	wait_until 20 grep -q 'listening on' "$T_TMP/cap.log" || die "tcpdump did not start: $(cat "$T_TMP/cap.log")"
}

# cap_settled: the capture file has not grown for 0.5 s (20 s at most):
# tcpdump has written what the clients exchanged (-U writes each packet);
# SIGINT drops what it has not read yet.
cap_settled() {
	local prev=-1 cur same=0 i
	for i in $(seq 80); do
		cur=$(stat -c %s "$T_TMP/cap.pcap" 2>/dev/null || echo 0)
		if [ "$cur" = "$prev" ]; then
			same=$((same + 1))
			[ "$same" -ge 2 ] && return 0
		else
			same=0
		fi
		prev=$cur
		sleep 0.25
	done
	return 1
}

# cap_stop NAME: finish the capture, keep it and the client log.
cap_stop() {
	cap_settled || die "capture still growing after 20 s"
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	# every packet that matched was written (none dropped, none left unread)
	local got seen
	got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$T_TMP/cap.log")
	seen=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$T_TMP/cap.log")
	[ -n "$got" ] && [ "$got" = "$seen" ] && grep -q '^0 packets dropped by kernel' "$T_TMP/cap.log" ||
		die "capture incomplete: $(tr '\n' ' ' <"$T_TMP/cap.log")"
	cp "$T_TMP/cap.pcap" "$OUT/$1.pcap"
	[ -n "${KEEP_LOG:-}" ] && cp "$T_TMP/client.log" "$KEEP_LOG"
	# client records: "<broker> sent|recv <ApiName> v<N> corr <id>"; broker
	# ids 1..3 are ${BROKER_IPS[0..2]}, bootstrap connections name the address
	local map="" k=1 p
	for p in $MOCK_PORTS; do
		map+="s#^$k #${BROKER_IPS[$((k - 1))]}:9092 #;s#^127\.0\.0\.1:$p #${BROKER_IPS[$((k - 1))]}:9092 #;"
		k=$((k + 1))
	done
	sed -E -n '
		s#.*\]: [^ ]*/([0-9]+): Sent ([A-Za-z]+)Request \(v([0-9]+),.*CorrId ([0-9]+)\).*#\1 sent \2 v\3 corr \4#p
		s#.*\]: [^ ]*/([0-9]+): Received ([A-Za-z]+)Response \(v([0-9]+),.*CorrId ([0-9]+),.*#\1 recv \2 v\3 corr \4#p
		s#.*\]: ([0-9.]+:[0-9]+)/bootstrap: Sent ([A-Za-z]+)Request \(v([0-9]+),.*CorrId ([0-9]+)\).*#\1 sent \2 v\3 corr \4#p
		s#.*\]: ([0-9.]+:[0-9]+)/bootstrap: Received ([A-Za-z]+)Response \(v([0-9]+),.*CorrId ([0-9]+),.*#\1 recv \2 v\3 corr \4#p
		s#.*PYKAFKA (\S+) (sent|recv) ([A-Za-z]+) v([0-9]+) corr ([0-9]+)$#\1 \2 \3 v\4 corr \5#p
	' "$T_TMP/client.log" | sed -E "$map" >"$OUT/$1.clientlog"
	: >"$T_TMP/client.log"
	kill "$MOCK_PID" 2>/dev/null
	local i
	for i in $(seq 30); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID" 2>/dev/null
}

KC() { ip netns exec "$C" timeout 30 kcat -b "$BOOT" -d protocol "$@" 2>>"$T_TMP/client.log"; }

# kafka-python with a log line per request and response.
PYK() {
	ip netns exec "$C" timeout 60 "$PY" - "$@" 2>>"$T_TMP/client.log" <<-'EOF'
	import logging, re, sys
	from kafka import KafkaProducer, KafkaConsumer
	class Rec(logging.Handler):
	    def emit(self, r):
	        m = re.match(r'<BrokerConnection node_id=(\S+) host=(\S+) .*> (Request|Response) (\d+)', r.getMessage())
	        if m and r.args and len(r.args) >= 3:
	            kind = 'sent' if m.group(3) == 'Request' else 'recv'
	            who = m.group(1) if m.group(1).isdigit() else m.group(2)
	            obj = r.args[2] if kind == 'sent' else r.args[3]
	            name = type(obj).__name__
	            v = re.match(r'(\w+?)(Request|Response)_v(\d+)', name)
	            if v:
	                print('PYKAFKA %s %s %s v%s corr %s' % (who, kind, v.group(1), v.group(3), m.group(4)), file=sys.stderr)
	h = Rec(); h.setLevel(logging.DEBUG)
	lg = logging.getLogger('kafka.conn'); lg.setLevel(logging.DEBUG); lg.addHandler(h)
	boot, mode = sys.argv[1], sys.argv[2]
	ver = tuple(int(x) for x in sys.argv[3].split('.')) if len(sys.argv) > 3 else None
	if mode == 'produce':
	    p = KafkaProducer(bootstrap_servers=boot, api_version=ver, linger_ms=200, acks='all')
	    for i in range(10):
	        p.send('orders', key=b'k%d' % i, value=b'order-%d' % i)
	        p.send('payments', key=b'k%d' % i, value=b'payment-%d' % i)
	    p.flush(); p.close()
	    print('produced 20', file=sys.stderr)
	else:
	    c = KafkaConsumer('orders', 'payments', bootstrap_servers=boot, api_version=ver,
	                      group_id='py-group', auto_offset_reset='earliest',
	                      consumer_timeout_ms=2500, enable_auto_commit=True,
	                      auto_commit_interval_ms=500)
	    n = sum(1 for _ in c)
	    c.commit(); c.close()
	    print('consumed %d' % n, file=sys.stderr)
	EOF
}

msgs() { local i; for i in $(seq 0 $(($1 - 1))); do echo "k$i:$2-$i"; done; }

# --- scenarios -------------------------------------------------------------------

# librdkafka against the mock with the versions both support (Produce v7,
# Fetch v11, Metadata v2, ApiVersions v3 refused then v0, ...): produce,
# partition consumer, consumer group (coordinator, join/sync, heartbeat,
# offset commit/fetch, leave), metadata listing.
sc_kcat() {
	mock_up -t orders:3 -t payments:1
	cap_start
	msgs 30 order | KC -P -t orders -K: -X linger.ms=50
	msgs 5 payment | KC -P -t payments -K: -X linger.ms=50
	KC -C -t orders -o beginning -e -q >/dev/null
	KC -G kcat-group -o beginning -e -q -X enable.auto.commit=true \
		-X auto.commit.interval.ms=200 orders payments >/dev/null
	KC -L -t orders >/dev/null
	cap_stop kcat
}

# Brokers that only speak old versions: clients fall back to classic
# encodings (Produce v2, Fetch v3, ListOffsets v0, Metadata v0,
# OffsetCommit v2, OffsetFetch v1, Heartbeat v0 ...).
sc_oldversions() {
	mock_up -t orders:2 -V 0:0:2 -V 1:0:3 -V 2:0:0 -V 3:0:0 -V 8:0:2 -V 9:0:1 \
		-V 10:0:0 -V 11:0:1 -V 12:0:0 -V 13:0:0 -V 14:0:0
	cap_start
	msgs 20 old | KC -P -t orders -K: -X linger.ms=50
	KC -G old-group -o beginning -e -q orders >/dev/null
	cap_stop oldversions
}

# kafka-python: one producer batching two topics per Produce request,
# then a consumer group (auto commit); first with the versions it
# negotiates, then forced to the Kafka 0.10.1 protocol.
sc_python() {
	mock_up -t orders:1 -t payments:1
	cap_start
	PYK "$BOOT" produce
	PYK "$BOOT" consume
	PYK "$BOOT" produce 0.10.1
	PYK "$BOOT" consume 0.10.1
	cap_stop python
}

# Errors from the brokers: Produce refused twice (NOT_LEADER_OR_FOLLOWER,
# then REQUEST_TIMED_OUT) and retried, the group coordinator not available
# at first, a Fetch refused (NOT_LEADER_OR_FOLLOWER).
sc_errors() {
	mock_up -t orders:1 -e 0:6,7 -e 10:15 -e 1:6
	cap_start
	msgs 3 err | KC -P -t orders -K: -X linger.ms=10 -X retry.backoff.ms=50
	KC -G err-group -o beginning -e -q orders >/dev/null
	cap_stop errors
}

# Large messages: Produce requests and Fetch responses of tens of kB, many
# segments each. Two captures are derived from it with editcap:
#   bigmsgs-cut   starts in the middle of the first large Produce request
#                 (the observer joined a busy connection)
#   bigmsgs-loss  lost one segment inside a Produce request and one inside
#                 a Fetch response (capture loss: the stream has gaps)
sc_bigmsgs() {
	mock_up -t bulk:1
	cap_start
	local i v
	v=$(head -c 3000 /dev/zero | tr '\0' 'x')
	for i in $(seq 0 29); do echo "k$i:$v$i"; done |
		KC -P -t bulk -K: -X linger.ms=200 -X batch.num.messages=15
	KC -C -t bulk -o beginning -e -q >/dev/null
	cap_stop bigmsgs
	# frames of the first Produce request that carry payload, and of the
	# first Fetch response with records
	local f="$OUT/bigmsgs.pcap" produce fetch
	produce=$(tshark -r "$f" -Y 'tcp.dstport == 9092 && tcp.len > 1000' -T fields \
		-e frame.number 2>/dev/null | head -3)
	fetch=$(tshark -r "$f" -Y 'tcp.srcport == 9092 && tcp.len > 1000' -T fields \
		-e frame.number 2>/dev/null | head -3)
	[ "$(echo "$produce" | wc -l)" = 3 ] && [ "$(echo "$fetch" | wc -l)" = 3 ] ||
		die "bigmsgs: no multi-segment messages"
	editcap "$f" "$OUT/bigmsgs-cut.pcap" "1-$(echo "$produce" | sed -n 2p)" || die editcap
	editcap "$f" "$OUT/bigmsgs-loss.pcap" "$(echo "$produce" | sed -n 2p)" \
		"$(echo "$fetch" | sed -n 2p)" || die editcap
}

scenarios=${*:-kcat oldversions python errors bigmsgs}
n=0
for sc in $scenarios; do
	echo "== $sc"
	: >"$T_TMP/client.log"
	n=$((n + 1))
	net_up $n
	"sc_$sc"
	grep -E 'produced|consumed|% Reached|ERROR|Error' "$T_TMP/client.log" | head -5
	net_down
	echo "   $(tshark -r "$OUT/$sc.pcap" 2>/dev/null | wc -l) packets, $(wc -l <"$OUT/$sc.clientlog") client records"
done
