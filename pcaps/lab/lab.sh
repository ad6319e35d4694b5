# Sourced by the capture scripts: a client and a server network namespace
# joined by a veth pair, real servers in the server namespace, tcpdump on
# the client's interface. Everything is removed on exit, also on failure.
#
#   client 198.18.0.1  2001:db8::1   02:00:00:00:00:01
#   server 198.18.0.2  2001:db8::2   02:00:00:00:00:02
#
# Offloads are off so that the capture holds wire-sized segments with real
# checksums. Run as root.
set -euo pipefail

PCAPS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # pcaps/
PY=/usr/bin/python3
LAB_ID=$(printf '%04x' $(( $$ % 65536 )))
NS_C=fdlabc$LAB_ID
NS_S=fdlabs$LAB_ID
IF_C=vc$LAB_ID
IF_S=vs$LAB_ID
C4=198.18.0.1 S4=198.18.0.2 C6=2001:db8::1 S6=2001:db8::2
LAB_TMP=$(mktemp -d /tmp/flowd-lab.XXXXXX)
chmod 755 "$LAB_TMP"   # nginx workers run as nobody
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
	rm -rf "/etc/netns/$NS_C" "$LAB_TMP"
}
trap lab_down EXIT
trap 'exit 130' INT TERM

in_c() { ip netns exec "$NS_C" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

lab_up() {
	ip netns add "$NS_C"
	ip netns add "$NS_S"
	ip link add "$IF_C" netns "$NS_C" address 02:00:00:00:00:01 type veth \
		peer name "$IF_S" netns "$NS_S" address 02:00:00:00:00:02
	local ns ifc a4 a6
	for ns in c s; do
		if [ $ns = c ]; then ns=$NS_C ifc=$IF_C a4=$C4 a6=$C6; else ns=$NS_S ifc=$IF_S a4=$S4 a6=$S6; fi
		ip -n "$ns" link set lo up
		ip -n "$ns" addr add "$a4/24" dev "$ifc"
		ip -n "$ns" addr add "$a6/64" dev "$ifc" nodad
		ip -n "$ns" link set "$ifc" up
		ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
	done
	# the client resolves names with the server's dnsmasq (ip netns exec
	# bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf)
	mkdir -p "/etc/netns/$NS_C"
	printf 'nameserver %s\noptions edns0\n' "$S4" > "/etc/netns/$NS_C/resolv.conf"
	printf '127.0.0.1 localhost\n' > "/etc/netns/$NS_C/hosts"
	in_c ping -c1 -W2 "$S4" >/dev/null
}

# lab_capture_start FILE [tcpdump options]: capture on the client's interface
# (or on LAB_CAPTURE_IF, e.g. "any" for Linux cooked captures).
lab_capture_start() {
	local out=$1; shift
	ip netns exec "$NS_C" tcpdump -i "${LAB_CAPTURE_IF:-$IF_C}" --immediate-mode -s 0 -U -w "$out" "$@" 2>"$LAB_TMP/tcpdump.err" &
	CAP_PID=$!
	LAB_PIDS+=("$CAP_PID")
	for _ in $(seq 50); do grep -q listening "$LAB_TMP/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
	sleep 0.2
}

lab_capture_stop() {
	sleep 0.5
	kill -TERM "$CAP_PID"   # background jobs ignore SIGINT
	wait "$CAP_PID" 2>/dev/null || true
	grep -E 'packets (captured|dropped)' "$LAB_TMP/tcpdump.err" >&2 || true
}

# nginx on the server, port 80 (IPv4 and IPv6), document root $LAB_TMP/www.
nginx_start() {
	local d=$LAB_TMP/nginx
	mkdir -p "$d" "$LAB_TMP/www"
	printf '<html><body>hello from flowd lab</body></html>\n' > "$LAB_TMP/www/index.html"
	printf 'small\n' > "$LAB_TMP/www/small.txt"
	$PY -c 'import sys; sys.stdout.write("".join("line %05d of a compressible text file for chunked gzip\n" % i for i in range(2000)))' > "$LAB_TMP/www/big.txt"
	head -c 65536 /dev/zero | tr '\0' 'z' > "$LAB_TMP/www/blob.bin"
	printf '{"items":[1,2,3]}\n' > "$LAB_TMP/www/data.json"
	cat > "$d/nginx.conf" <<CONF
worker_processes 1;
error_log $d/error.log;
pid $d/nginx.pid;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	default_type application/octet-stream;
	types { text/html html; text/plain txt; application/json json; }
	keepalive_timeout 30;
	server_tokens off;
	server {
		listen $S4:80;
		listen [$S6]:80;
		server_name web.test;
		root $LAB_TMP/www;
		gzip on;
		gzip_min_length 0;
		gzip_comp_level 1;
		gzip_types text/plain application/json;
		location = /upload { client_max_body_size 10m; return 201 "created\n"; }
		location = /status/500 { return 500 "boom\n"; }
		location = /redirect { return 301 /index.html; }
	}
}
CONF
	ip netns exec "$NS_S" nginx -c "$d/nginx.conf" -g 'daemon off;' &
	LAB_PIDS+=("$!")
	for _ in $(seq 50); do in_c curl -s -o /dev/null "http://$S4/small.txt" && return 0; sleep 0.1; done
	echo "nginx did not start" >&2
	cat "$d/error.log" >&2
	return 1
}

# dnsmasq on the server, authoritative for *.test from a hosts file;
# arguments: more dnsmasq options.
dnsmasq_start() {
	local d=$LAB_TMP/dns
	mkdir -p "$d"
	{
		echo "$S4 web.test"
		echo "$S6 web.test"
		echo "198.18.1.10 api.test"
		for i in $(seq 1 40); do echo "198.18.2.$i big.test"; done
	} > "$d/hosts"
	ip netns exec "$NS_S" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--addn-hosts="$d/hosts" --listen-address="$S4,$S6" --bind-interfaces \
		--local=/test/ --domain-needed --cname=www.test,web.test --local-ttl=300 \
		--mx-host=test,mail.test,10 --pid-file="$d/pid" --user=root "$@" 2>"$d/log" &
	LAB_PIDS+=("$!")
	for _ in $(seq 50); do
		in_c dig +short +time=1 +tries=1 @"$S4" web.test >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "dnsmasq did not start" >&2
	cat "$d/log" >&2
	return 1
}
