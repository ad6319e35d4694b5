#!/usr/bin/env bash
# flowd's live L7 with a policy: nginx and dnsmasq on the server, curl and
# dig on the client. HTTP rules label the requests by path, DNS rules the
# queries by name; a denied transaction is AUDIT (flowd observes, it did not
# stop it: the client got its answer). toFQDNs: the addresses a DNS answer
# gave for a name are compiled into the kernel's maps, so the server's own
# connection to that name is dropped after the answer and not before.
. "$(dirname "$0")/../lib/testlib.sh"
export LC_ALL=C
if [ "$(id -u)" != 0 ]; then
	fail "flowd l7 policy: needs root (network namespaces, XDP)"
	t_done
fi

C=flc$T_ID S=fls$T_ID VC=lc$T_ID VS=ls$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$VC" "$S" "$VS" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$VC" 198.18.0.2/24; addr_add "$S" "$VS" 198.18.0.1/24
check "setup: nginx serves" nginx_start "$S"
bg ip netns exec "$S" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
	--bind-interfaces --listen-address=198.18.0.1 --port=53 --user=root \
	--pid-file="$T_TMP/dnsmasq.pid" --local=/test/ --address=/www.shop.test/198.18.0.1 \
	--address=/api.shop.test/198.18.0.2 --address=/other.test/198.18.0.9 2>/dev/null
check "setup: dnsmasq answers" wait_until 5 sh -c \
	"ip netns exec $C dig +short +time=1 +tries=1 @198.18.0.1 www.shop.test A | grep -q 198.18.0.1"
bg ip netns exec "$C" "$PY" -m http.server 9000 --bind 198.18.0.2 --directory "$T_TMP" >/dev/null 2>&1
wait_until 5 ip netns exec "$C" "$PY" -c 'import socket; socket.create_connection(("198.18.0.2", 9000), 0.2)' ||
	fail "setup: client's http server"

IDS=$T_TMP/ids.yaml POL=$T_TMP/policy.yaml EV=$T_TMP/events.json LOG=$T_TMP/flowd.log
cat >"$IDS" <<'YAML'
endpoints:
  - {addresses: [198.18.0.1], namespace: shop, pod: web-0, labels: {app: web}}
  - {addresses: [198.18.0.2], namespace: shop, pod: frontend-0, labels: {app: frontend}}
host: {detect: false}
YAML
cat >"$POL" <<'YAML'
mode: enforce
defaultAction: allow
rules:
  - name: web-pages
    direction: ingress
    action: allow
    endpointSelector: {matchLabels: {app: web}}
    fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts:
      - ports: [{port: "80", protocol: TCP}]
        rules:
          http:
            - {method: GET, path: "/"}
            - {method: GET, path: "/big\\.bin"}
  - name: no-status
    direction: ingress
    action: deny
    endpointSelector: {matchLabels: {app: web}}
    toPorts:
      - ports: [{port: "80", protocol: TCP}]
        rules:
          http: [{path: "/status/.*"}]
  - name: dns-shop
    direction: ingress
    action: allow
    endpointSelector: {matchLabels: {app: web}}
    toPorts:
      - ports: [{port: "53", protocol: UDP}]
        rules:
          dns: [{matchPattern: "*.shop.test"}]
  - name: web-not-to-api
    direction: egress
    action: deny
    endpointSelector: {matchLabels: {app: web}}
    toFQDNs: [{matchName: api.shop.test}]
    toPorts: [{ports: [{port: "9000", protocol: TCP}]}]
YAML
flowd_start "$S" "$LOG" -i "$VS" --identities "$IDS" --policy "$POL" -e "$EV" --poll-interval 100ms \
	--stats-interval 0 --l7-ports 53,80 || { fail "flowd did not start"; t_done; }

get() { ip netns exec "$C" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://198.18.0.1$1"; }
# the server's own connection to the client's port 9000: 000 when dropped
web_to_api() { ip netns exec "$S" curl -s -o /dev/null -w '%{http_code}' --max-time 1 http://198.18.0.2:9000/; }

check_eq "http: GET / answered" "$(get /)" 200
check_eq "http: GET /big.bin answered" "$(get /big.bin)" 200
check_eq "http: GET /status/x answered (observed, not stopped)" "$(get /status/x)" 503
check_eq "http: GET /missing answered" "$(get /missing)" 404
check_eq "fqdn: web -> 198.18.0.2:9000 allowed before any DNS answer names it" "$(web_to_api)" 200
for n in www.shop.test other.test api.shop.test; do
	ip netns exec "$C" dig +short +time=1 +tries=1 @198.18.0.1 "$n" A >/dev/null
done
# the answer for api.shop.test is compiled in at most a second later
sleep 1.5
check_eq "fqdn: web -> api.shop.test (198.18.0.2):9000 now dropped" "$(web_to_api)" 000
sleep 0.5
stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0
check "fqdn: recompiled for the DNS answer ($(grep -o 'fqdn_recompiles=[0-9]*' "$LOG"), $(grep -o 'fqdn_addresses=[0-9]*' "$LOG"))" \
	grep -q 'fqdn_recompiles=[1-9].*' "$LOG"

got=$(jq -r 'select(.flow.l7.http and .flow.l7.type=="REQUEST") | [.flow.verdict, .flow.l7.http.url,
	((.flow.ingress_denied_by // [{}])[0].name // "-"), .flow.source.pod_name, .flow.destination.pod_name] | join(" ")' "$EV")
check_eq "http: request verdicts by path (AUDIT: never stopped)" "$got" \
"FORWARDED http://198.18.0.1/ - frontend-0 web-0
FORWARDED http://198.18.0.1/big.bin - frontend-0 web-0
AUDIT http://198.18.0.1/status/x no-status frontend-0 web-0
AUDIT http://198.18.0.1/missing - frontend-0 web-0"
got=$(jq -r 'select(.flow.l7.http and .flow.l7.type=="RESPONSE") | .flow.verdict + " " + (.flow.l7.http.code|tostring)' "$EV" | tr '\n' ',')
check_eq "http: responses carry their request's verdict" "$got" "FORWARDED 200,FORWARDED 200,AUDIT 503,AUDIT 404,"
got=$(jq -r 'select(.flow.l7.dns and .flow.l7.type=="REQUEST") | .flow.verdict + " " + .flow.l7.dns.query' "$EV" | tr '\n' ',')
check_eq "dns: *.shop.test allowed, other names AUDIT" "$got" \
	"FORWARDED www.shop.test.,AUDIT other.test.,FORWARDED api.shop.test.,"
check_eq "l7: nothing DROPPED at L7" "$(jq -r 'select(.flow.Type=="L7" and .flow.verdict=="DROPPED") | 1' "$EV" | wc -l)" 0
got=$(jq -r 'select(.flow.event_type.type==5 and .flow.l4.TCP.destination_port==9000) | [.flow.verdict,
	.flow.traffic_direction, ((.flow.egress_denied_by // [{}])[0].name // "-")] | join(" ")' "$EV")
check_eq "fqdn: policy-verdicts of web -> :9000, before and after the answer" "$got" \
"FORWARDED EGRESS -
DROPPED EGRESS web-not-to-api"
t_done
