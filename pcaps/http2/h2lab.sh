# Sourced by the HTTP/2 capture scripts (run as root): a client and a
# server network namespace joined by a veth pair, HTTP/2 servers in the
# server namespace, tcpdump on the client's interface. Everything is removed
# on exit, also on failure.
#
#   client 198.18.0.1  2001:db8::1      server 198.18.0.2  2001:db8::2
#
# Offloads are off so that captures hold wire-sized segments.
set -euo pipefail

H2DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$H2DIR}   # where captures and client logs go
PY=/usr/bin/python3
LAB_ID=$(printf '%04x' $(( $$ % 65536 )))
NS_C=fdh2c$LAB_ID NS_S=fdh2s$LAB_ID IF_C=h2c$LAB_ID IF_S=h2s$LAB_ID
C4=198.18.0.1 S4=198.18.0.2 C6=2001:db8::1 S6=2001:db8::2
LAB_TMP=$(mktemp -d /tmp/flowd-h2lab.XXXXXX)
LAB_PIDS=()
CAP_PID=

lab_down() {
	local p
	for p in "${LAB_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${LAB_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	ip netns pids "$NS_S" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns pids "$NS_C" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	rm -rf "$LAB_TMP"
}
trap lab_down EXIT
trap 'exit 130' INT TERM

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

lab_up() {
	# for tests/run.sh, which removes what a killed test left (T_RECORD)
	[ -z "${T_RECORD:-}" ] || printf 'netns %s\nnetns %s\ntmp %s\n' "$NS_C" "$NS_S" "$LAB_TMP" >>"$T_RECORD"
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	ip link add "$IF_C" netns "$NS_C" type veth peer name "$IF_S" netns "$NS_S"
	local ns ifc a4 a6
	for ns in c s; do
		if [ $ns = c ]; then ns=$NS_C ifc=$IF_C a4=$C4 a6=$C6; else ns=$NS_S ifc=$IF_S a4=$S4 a6=$S6; fi
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$a4/24" dev "$ifc"
		ip -n "$ns" addr add "$a6/64" dev "$ifc" nodad
		ip -n "$ns" link set "$ifc" up
		ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
	done
	in_c ping -c1 -W2 "$S4" >/dev/null
}

# lab_capture_start FILE [filter]: capture on the client's interface.
lab_capture_start() {
	local out=$1; shift
	ip netns exec "$NS_C" tcpdump -i "$IF_C" -s 0 -U --immediate-mode -w "$out" "$@" 2>"$LAB_TMP/tcpdump.err" &
	CAP_PID=$!
	LAB_PIDS+=("$CAP_PID")
	for _ in $(seq 50); do grep -q listening "$LAB_TMP/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
	sleep 0.2
}

lab_capture_stop() {
	sleep 0.5
	kill -INT "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null || true
}

# nghttpd (cleartext, prior knowledge only) on port 8080: a page that pushes
# its stylesheet, a large file, trailers on responses with a body, request
# bodies echoed back.
nghttpd_start() {
	local www=$LAB_TMP/h2www
	mkdir -p "$www"
	printf '<html><head><link rel="stylesheet" href="/style.css"><script src="/app.js"></script></head><body>flowd h2 lab</body></html>\n' > "$www/index.html"
	printf 'body { color: black }\n' > "$www/style.css"
	printf 'console.log("app")\n' > "$www/app.js"
	head -c 40000 /dev/zero | tr '\0' 'd' > "$www/data.bin"
	ip netns exec "$NS_S" nghttpd --no-tls -d "$www" -p /index.html=/style.css --trailer 'x-served-by: nghttpd' \
		--echo-upload "$@" 8080 >"$LAB_TMP/nghttpd.log" 2>&1 &
	LAB_PIDS+=("$!")
	for _ in $(seq 50); do in_c curl -s -o /dev/null --http2-prior-knowledge "http://$S4:8080/app.js" && return 0; sleep 0.1; done
	echo "nghttpd did not start" >&2
	return 1
}

# python3-h2 server answering HTTP/1.1 Upgrade: h2c on port 8081.
upgrade_server_start() {
	ip netns exec "$NS_S" $PY "$H2DIR/h2c_upgrade_server.py" "$S4" 8081 >"$LAB_TMP/h2up.log" 2>&1 &
	LAB_PIDS+=("$!")
	for _ in $(seq 50); do grep -q listening "$LAB_TMP/h2up.log" && return 0; sleep 0.1; done
	echo "upgrade server did not start" >&2
	return 1
}

# python3-grpcio server on port 50051.
grpc_server_start() {
	ip netns exec "$NS_S" $PY "$H2DIR/grpc_peer.py" server "$S4:50051" >"$LAB_TMP/grpc.log" 2>&1 &
	LAB_PIDS+=("$!")
	for _ in $(seq 100); do grep -q listening "$LAB_TMP/grpc.log" && return 0; sleep 0.1; done
	echo "grpc server did not start" >&2
	cat "$LAB_TMP/grpc.log" >&2
	return 1
}

# cut_capture IN OUT N: OUT is IN without its first N packets (a capture
# that starts mid-connection).
cut_capture() {
	editcap -r "$1" "$2" "$(( $3 + 1 ))-1000000000" >/dev/null
}
