#!/usr/bin/env bash
# make demo: flowd observing live traffic in private network namespaces.
#
# Creates a client and a server namespace joined by a veth pair, runs nginx
# and dnsmasq in the server, attaches flowd to the server's interface, drives
# HTTP (curl), ping and DNS (dig) from the client, shows the flow events as
# flowd writes them, then stops flowd (SIGTERM: every live flow ends) and
# removes everything it created. Needs root.
. "$(dirname "$0")/lib/testlib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "make demo: needs root (network namespaces, eBPF)" >&2
	exit 1
fi
C=democ$T_ID S=demos$T_ID CI=dc$T_ID SI=ds$T_ID
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

say "Namespaces $C (client, 198.18.0.1, 2001:db8::1) and $S (server, 198.18.0.2, 2001:db8::2)"
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || exit 1
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
addr_add "$C" "$CI" 2001:db8::1/64; addr_add "$S" "$SI" 2001:db8::2/64
nginx_start "$S" || { echo "demo: nginx did not start" >&2; exit 1; }
bg ip netns exec "$S" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
	--user=root --bind-interfaces --listen-address=198.18.0.2 --pid-file="$T_TMP/dnsmasq.pid" \
	--address=/shop.demo.test/198.18.0.2 --log-facility=- 2>/dev/null
wait_until 5 ip netns exec "$S" sh -c 'ss -lunH | grep -q "198.18.0.2:53 "'

say "flowd -i $SI --idle-timeout 2s   (events: one JSON line each, Hubble schema)"
EV=$T_TMP/events.json
flowd_start "$S" "$T_TMP/flowd.log" -i "$SI" --idle-timeout 2s --poll-interval 250ms \
	--node-name demo-node -e "$EV" || exit 1
cat "$T_TMP/flowd.log" >&2
bg tail -n +1 -f "$EV"

say "Client: 2 HTTP requests over IPv4, 1 over IPv6, DNS, ping"
ip netns exec "$C" curl -s -o /dev/null -w '   curl http://198.18.0.2/ -> %{http_code}\n' http://198.18.0.2/ >&2
ip netns exec "$C" curl -s -o /dev/null -w '   curl http://198.18.0.2/big.bin -> %{http_code}, %{size_download} bytes\n' \
	http://198.18.0.2/big.bin >&2
ip netns exec "$C" curl -s -o /dev/null -w '   curl http://[2001:db8::2]/status/ -> %{http_code}\n' \
	'http://[2001:db8::2]/status/' >&2
echo "   dig @198.18.0.2 shop.demo.test -> $(ip netns exec "$C" dig +short +time=2 +tries=1 @198.18.0.2 shop.demo.test)" >&2
ip netns exec "$C" ping -q -c 3 -i 0.2 198.18.0.2 | sed -n 's/^/   /;4p' >&2

say "Waiting 3 s: flows idle for 2 s end (\"event\":\"end\" with their packets and bytes)"
sleep 3
say "SIGTERM: flowd ends the flows still live, detaches and exits"
stop_wait "$FLOWD_PID"
rc=$?
sleep 0.3
grep "counters:" "$T_TMP/flowd.log" >&2
flows=$(grep -c '"event":"start"' "$EV"); ends=$(grep -c '"event":"end"' "$EV")
say "flowd exited with status $rc: $flows directional flows, $ends end events. Cleaning up."
[ "$rc" -eq 0 ] && [ "$flows" -gt 0 ] && [ "$flows" -eq "$ends" ]
