# Shared helpers for shell tests. Source it: . "$(dirname "$0")/../lib/testlib.sh"
#
# Every test prints "PASS: name" / "FAIL: name why" per case and exits
# non-zero if any case failed (tests/run.sh counts them). Namespaces and
# processes made through these helpers are removed on exit, also on failure.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
FLOWD=$BUILD/flowd
FLOWCTL=$BUILD/flowctl
PY=/usr/bin/python3          # Debian's python3 (has scapy, grpcio, kafka)
T_FAILS=0
T_NETNS=()
T_PIDS=()
T_TMP=$(mktemp -d /tmp/flowd-test.XXXXXX)
# t_record KIND WHAT: tell tests/run.sh what this test made (T_RECORD, set by
# run.sh), so it can remove what a killed test could not (see run.sh).
t_record() { [ -z "${T_RECORD:-}" ] || echo "$1 $2" >>"$T_RECORD"; }
t_record tmp "$T_TMP"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $*"; T_FAILS=$((T_FAILS + 1)); }
# check NAME CMD...: pass if the command succeeds
check() { local n=$1; shift; if "$@"; then pass "$n"; else fail "$n"; fi; }
# check_eq NAME GOT WANT
check_eq() {
	if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# Unique, short names so parallel runs do not collide.
T_ID=$(printf '%04x' $(( $$ % 65536 )))

# netns_add NAME: creates namespace NAME (remembered for cleanup), lo up.
netns_add() {
	ip netns add "$1" || return 1
	T_NETNS+=("$1")
	t_record netns "$1"
	ip -n "$1" link set lo up
}

# bg CMD...: start a background process, remembered for cleanup; sets BG_PID.
bg() { "$@" & BG_PID=$!; T_PIDS+=("$BG_PID"); }

t_cleanup() {
	local p n
	for p in "${T_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${T_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	for n in "${T_NETNS[@]}"; do
		# processes we did not track but started inside our namespace
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# t_done: exit with the right status (call last).
t_done() { [ "$T_FAILS" -eq 0 ]; exit $?; }

# --- network helpers (namespace tests and tests/demo.sh) ---------------------

# wait_until SECS CMD...: run CMD every 0.1 s until it succeeds; fails after SECS.
wait_until() {
	local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	until "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# line_written FILE PATTERN: FILE has a line matching PATTERN and ends with
# a newline (a reader can see a line its writer has not finished).
line_written() {
	grep -q "$2" "$1" && [ -z "$(tail -c1 "$1")" ]
}

# offloads_off NS DEV: no segmentation or receive offloads, so each packet on
# the wire is one packet at the XDP/TC hooks and in tcpdump.
offloads_off() {
	ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1
}

# veth_pair NS1 DEV1 NS2 DEV2: a veth pair between two namespaces, up, offloads off.
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up || return 1
	offloads_off "$1" "$2"; offloads_off "$3" "$4"
}

# addr_add NS DEV ADDR/LEN: IPv6 addresses without duplicate address detection.
addr_add() {
	case "$3" in
	*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

# nginx_start NS: nginx on port 80 (all addresses, IPv4 and IPv6) in NS,
# serving $T_TMP/www-NS (index.html and a 100 kB file big.bin; /status/
# answers 503, /fail/ 500). Sets NGINX_ROOT.
nginx_start() {
	local ns=$1 dir=$T_TMP/nginx-$1
	NGINX_ROOT=$T_TMP/www-$1
	mkdir -p "$dir/logs" "$NGINX_ROOT"
	echo "hello from $ns" >"$NGINX_ROOT/index.html"
	head -c 100000 /dev/zero | tr '\0' x >"$NGINX_ROOT/big.bin"
	cat >"$dir/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
user root;
pid $dir/nginx.pid;
error_log $dir/logs/error.log;
events { worker_connections 64; }
http {
	access_log $dir/logs/access.log;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	server {
		listen 80;
		listen [::]:80;
		root $NGINX_ROOT;
		location /status/ { return 503 "unavailable\n"; }
		location /fail/ { return 500 "failed\n"; }
	}
}
NGINX
	bg ip netns exec "$ns" nginx -c "$dir/nginx.conf" -p "$dir" 2>>"$dir/logs/stderr.log"
	wait_until 30 ip netns exec "$ns" sh -c 'ss -ltnH | grep -q ":80 "'
}

# flowd_start NS LOG ARGS...: flowd in NS with ARGS, stderr to LOG; waits
# until it has attached (30 s at most: the verifier's load of the programs
# took 5-8 s on a loaded 2-core machine, close to the 10 s this used to
# allow). Sets FLOWD_PID.
flowd_start() {
	local ns=$1 log=$2; shift 2
	bg ip netns exec "$ns" "$FLOWD" "$@" 2>"$log"
	FLOWD_PID=$BG_PID
	wait_until 30 grep -q 'events to' "$log" || { cat "$log" >&2; return 1; }
}

# tcpdump_start NS DEV PCAP: capture DEV in NS to PCAP; waits until it
# listens. Sets TCPDUMP_PID; stop it with tcpdump_stop.
tcpdump_start() {
	bg ip netns exec "$1" tcpdump -Z root -n -U --immediate-mode -s 0 -i "$2" -w "$3" 2>"$3.log"
	TCPDUMP_PID=$BG_PID
	wait_until 30 grep -q 'listening on' "$3.log"
}

# tcpdump_stop PCAP: stop the capture; fails if the kernel dropped packets.
tcpdump_stop() {
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
	grep -q '^0 packets dropped by kernel' "$1.log"
}

# stop_wait PID [SIG]: send SIG (TERM) and wait for the exit status.
stop_wait() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait "$1"
}

# --- servers for the live L7 tests and tests/demo.sh ---------------------------

# nghttpd_start NS PORT: nghttpd (HTTP/2 without TLS: prior knowledge) on
# PORT in NS, serving $NGINX_ROOT (call nginx_start first).
nghttpd_start() {
	bg ip netns exec "$1" nghttpd --no-tls -d "$NGINX_ROOT" "$2" >"$T_TMP/nghttpd-$1.log" 2>&1
	wait_until 10 ip netns exec "$1" sh -c "ss -ltnH | grep -q ':$2 '"
}

# dnsmasq_start NS ARGS...: dnsmasq in NS with ARGS (--listen-address=...,
# --host-record=..., ...) and nothing of the host's (no resolv.conf, no
# /etc/hosts), log in $T_TMP/dnsmasq-NS.log; waits until it listens.
dnsmasq_start() {
	local ns=$1; shift
	bg ip netns exec "$ns" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --port=53 --user=root --pid-file="$T_TMP/dnsmasq-$ns.pid" \
		--log-facility="$T_TMP/dnsmasq-$ns.log" "$@" 2>/dev/null
	wait_until 10 ip netns exec "$ns" sh -c 'ss -lunH | grep -q ":53 "'
}

# grpc_server_start NS ADDR:PORT: the python3-grpcio server of
# pcaps/http2/grpc_peer.py (service flowd.test.Echo) in NS; its client is
# `$PY $GRPC_PEER client ADDR:PORT`.
GRPC_PEER=$TOP/pcaps/http2/grpc_peer.py
grpc_server_start() {
	bg ip netns exec "$1" "$PY" "$GRPC_PEER" server "$2" >"$T_TMP/grpc-$1.log" 2>&1
	wait_until 10 grep -q listening "$T_TMP/grpc-$1.log"
}

# kafka_start SNS SDEV ADDR CNS CDEV [KAFKA_MOCK-ARGS...]: librdkafka's mock
# cluster (build/tools/kafka_mock, one broker: the real Kafka protocol) in
# SNS, reachable from CNS as ADDR:9092 over the veth SDEV-CDEV. The broker
# listens on SNS's loopback and advertises 127.0.0.1:PORT, so nftables NAT
# maps ADDR:9092 to it in SNS and the advertised address back to ADDR:9092
# in CNS (route_localnet on both): the veth carries ordinary client/broker
# traffic. Sets KAFKA_PID.
kafka_start() {
	local sns=$1 sdev=$2 addr=$3 cns=$4 cdev=$5 n port; shift 5
	[ -x "$BUILD/tools/kafka_mock" ] || { echo "kafka_start: $BUILD/tools/kafka_mock not built" >&2; return 1; }
	for n in "$sns:$sdev" "$cns:$cdev"; do
		ip netns exec "${n%%:*}" sysctl -qw net.ipv4.conf.all.route_localnet=1
		ip netns exec "${n%%:*}" sysctl -qw "net.ipv4.conf.${n#*:}.route_localnet=1"
	done
	bg ip netns exec "$sns" "$BUILD/tools/kafka_mock" -b 1 "$@" >"$T_TMP/kafka-$sns.out" 2>"$T_TMP/kafka-$sns.err"
	KAFKA_PID=$BG_PID
	wait_until 10 line_written "$T_TMP/kafka-$sns.out" '^bootstrap=' || return 1
	port=$(sed -n 's/^bootstrap=.*://p' "$T_TMP/kafka-$sns.out")
	ip netns exec "$sns" nft -f - <<-NFT || return 1
	table ip flowd_kafka {
		chain pre { type nat hook prerouting priority -100; iifname "$sdev" ip daddr $addr tcp dport 9092 dnat to 127.0.0.1:$port; }
	}
	NFT
	ip netns exec "$cns" nft -f - <<-NFT
	table ip flowd_kafka {
		chain out { type nat hook output priority -100; ip daddr 127.0.0.1 tcp dport $port dnat to $addr:9092; }
		chain post { type nat hook postrouting priority 100; oifname "$cdev" ip saddr 127.0.0.1 masquerade; }
	}
	NFT
}
