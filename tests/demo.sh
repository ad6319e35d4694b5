#!/usr/bin/env bash
# make demo: flowd observing real servers in private network namespaces.
#
# A client and a server namespace joined by a veth pair. In the server:
# nginx (HTTP/1.1) and nghttpd (HTTP/2) as demo/web, a python grpcio server
# as demo/grpc, dnsmasq as demo/dns, librdkafka's mock Kafka cluster as
# demo/kafka (the names come from a small identities file). flowd is attached
# to the server's veth with its socket and export file in a private
# directory. The client resolves the servers' names through demo/dns and
# talks to each of them (curl, nghttp, a grpcio client, dig, kcat) while
# `flowctl observe --follow --type l7` prints what flowd sees; a small policy
# (enforce mode) drops one connection and audits one HTTP path. Then a few
# filtered views and `flowctl status`. Everything it created is removed on
# exit, also on failure or Ctrl-C. Exits non-zero, saying what is missing,
# when a protocol gave no L7 request or response or the policy no verdict.
# Needs root.
. "$(dirname "$0")/lib/testlib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "make demo: needs root (network namespaces, eBPF)" >&2
	exit 1
fi
C=demo-client-$T_ID S=demo-server-$T_ID CI=dc$T_ID SI=ds$T_ID
RESOLV_DIR=/etc/netns/$C      # `ip netns exec` bind-mounts it over /etc
trap 'rm -rf "$RESOLV_DIR"; t_cleanup' EXIT
t_record tmp "$RESOLV_DIR"    # tests/run.sh removes it if a test run is killed
SOCK=$T_TMP/flowd.sock EV=$T_TMP/events.json IDS=$T_TMP/identities.yaml POL=$T_TMP/policy.yaml
WEB4=198.18.0.10 WEB6=2001:db8::10 GRPC=198.18.0.20 DNS=198.18.0.53 KAFKA=198.18.0.92
COLOR=never B='' N=''
if [ -t 1 ]; then COLOR=always B=$'\033[1m' N=$'\033[0m'; fi
T0=$(date +%s%N)
printf '%sflowd demo: live flows of real servers in private network namespaces%s\n' "$B" "$N"

say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
step() { printf '%s-- %s%s\n' "$B" "$*" "$N"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }
in_c() { ip netns exec "$C" "$@"; }
flowctl() { "$FLOWCTL" "$1" --socket "$SOCK" "${@:2}"; }
# show CMD...: print the command as typed, then run it
show() { printf '$ %s\n' "$*"; "$@"; }

say "Set-up: namespaces $C and $S, veth $CI <-> $SI"
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || die "network namespaces"
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$C" "$CI" 2001:db8::1/64
for a in $WEB4/24 $WEB6/64 $GRPC/24 $DNS/24 $KAFKA/24; do addr_add "$S" "$SI" "$a"; done
mkdir -p "$RESOLV_DIR" && echo "nameserver $DNS" >"$RESOLV_DIR/resolv.conf"
cat >"$IDS" <<EOF
endpoints:
  - {addresses: [198.18.0.1, "2001:db8::1"], namespace: demo, pod: client, labels: {app: client}}
  - {addresses: [$WEB4, "$WEB6"], namespace: demo, pod: web, labels: {app: web}}
  - {addresses: [$GRPC], namespace: demo, pod: grpc, labels: {app: grpc}}
  - {addresses: [$DNS], namespace: demo, pod: dns, labels: {app: dns}}
  - {addresses: [$KAFKA], namespace: demo, pod: kafka, labels: {app: kafka}}
EOF
cat >"$POL" <<EOF
mode: enforce             # connections denied at L3/L4 are dropped
defaultAction: allow
rules:
  - name: web-no-ssh      # no ssh to demo/web
    direction: ingress
    action: deny
    endpointSelector: {matchLabels: {app: web}}
    toPorts: [{ports: [{port: "22", protocol: TCP}]}]
  - name: web-no-admin    # flowd is no proxy: denied requests are reported AUDIT
    direction: ingress
    action: deny
    endpointSelector: {matchLabels: {app: web}}
    toPorts: [{ports: [{port: "80", protocol: TCP}], rules: {http: [{path: "/admin/.*"}]}}]
EOF
nginx_start "$S" || die "nginx did not start"
nghttpd_start "$S" 8080 || die "nghttpd did not start"
dnsmasq_start "$S" --listen-address=$DNS --local=/demo.test/ --local-ttl=60 \
	--host-record=web.demo.test,$WEB4,$WEB6 --host-record=grpc.demo.test,$GRPC \
	--host-record=kafka.demo.test,$KAFKA || die "dnsmasq did not start"
kafka_start "$S" "$SI" "$KAFKA" "$C" "$CI" -w 120 -t orders:1 || die "the Kafka mock cluster did not start"
grpc_server_start "$S" "$GRPC:50051" || die "the gRPC server did not start"
cat <<EOF
   demo/client  198.18.0.1 2001:db8::1   curl, nghttp, a grpcio client, dig, kcat (resolver: demo/dns)
   demo/web     $WEB4 $WEB6  nginx :80 (HTTP/1.1), nghttpd :8080 (HTTP/2)
   demo/grpc    $GRPC               python grpcio :50051 (gRPC, service flowd.test.Echo)
   demo/dns     $DNS               dnsmasq :53 (*.demo.test)
   demo/kafka   $KAFKA               librdkafka mock cluster :9092 (Kafka, topic orders)
EOF

say "flowd on the server's veth, with identities.yaml and policy.yaml (files in $T_TMP)"
for f in "$IDS" "$POL"; do echo "   ${f##*/}:"; sed 's/^/     /' "$f"; done
FARGS=(-i "$SI" --identities "$IDS" --policy "$POL" --socket "$SOCK" -e "$EV" --node-name demo-node
	--idle-timeout 1s --poll-interval 250ms --bpf-stats)
echo "\$ flowd ${FARGS[*]}" | sed "s#$T_TMP/##g"
flowd_start "$S" "$T_TMP/flowd.log" "${FARGS[@]}" || die "flowd did not start"
# (libbpf logs the kernel's refusal to create the clsact qdisc a second time,
# for the egress hook: harmless, and not worth a first look)
grep -v 'Exclusivity flag on' "$T_TMP/flowd.log"

# The follower prints into a file; after each step, once it has been quiet
# for 0.3 s, its new lines are shown under that step.
FOL=$T_TMP/follow.txt SHOWN=0
bg "$FLOWCTL" observe --socket "$SOCK" -f --type l7 --color "$COLOR" >"$FOL"
FOLLOW_PID=$BG_PID
settle() {
	local n=-1 quiet=0 i
	for i in $(seq 50); do
		sleep 0.1
		if [ "$(wc -l <"$FOL")" = "$n" ]; then
			quiet=$((quiet + 1)); [ $quiet -ge 3 ] && break
		else
			n=$(wc -l <"$FOL") quiet=0
		fi
	done
	sed -n "$((SHOWN + 1)),\$p" "$FOL"
	SHOWN=$(wc -l <"$FOL")
}
sleep 0.3

say "Traffic from demo/client; \`flowctl observe --follow --type l7\` shows it as flowd parses it"
codes() { in_c curl -s --max-time 5 -w '%{http_code} ' "$@"; }
step "HTTP/1.1: curl http://web.demo.test/{,missing,fail/} (IPv4), curl -6 http://web.demo.test/"
echo "   statuses: $(codes -4 -o /dev/null http://web.demo.test/ -o /dev/null http://web.demo.test/missing \
	-o /dev/null http://web.demo.test/fail/)$(codes -6 -o /dev/null http://web.demo.test/)"
settle
step "HTTP/2: nghttp http://web.demo.test:8080/index.html /missing (two streams, one connection)"
in_c timeout 5 nghttp -ns http://web.demo.test:8080/index.html http://web.demo.test:8080/missing |
	awk '$1 ~ /^[0-9]+$/ { printf "   %s %s\n", $5, $NF }'
settle
step "gRPC: 9 calls on one channel to grpc.demo.test:50051 (unary, streaming, NOT_FOUND, UNAVAILABLE)"
in_c timeout 30 "$PY" "$GRPC_PEER" client grpc.demo.test:50051 >"$T_TMP/grpc-client.log" 2>&1 ||
	die "the gRPC client failed: $(tail -3 "$T_TMP/grpc-client.log")"
settle
step "Kafka: kcat produces 3 messages to topic orders, then consumes them"
for i in 1 2 3; do echo "order-$i"; done |
	in_c timeout 20 kcat -b kafka.demo.test:9092 -P -t orders 2>"$T_TMP/kcat.log"
echo "   consumed: $(in_c timeout 20 kcat -b kafka.demo.test:9092 -C -t orders -o beginning -e -q 2>>"$T_TMP/kcat.log" | tr '\n' ' ')"
settle
step "Policy: curl http://web.demo.test:22/ (rule web-no-ssh), curl http://web.demo.test/admin/ (rule web-no-admin)"
echo "   statuses: $(codes -4 --connect-timeout 1 -o /dev/null http://web.demo.test:22/)(the SYN was dropped)," \
	"$(codes -4 -o /dev/null http://web.demo.test/admin/)(denied requests are reported, not blocked)"
settle
step "DNS: dig kafka.demo.test, dig nope.demo.test (NXDOMAIN)"
echo "   $(in_c dig +short +time=2 +tries=1 kafka.demo.test), $(in_c dig +time=2 +tries=1 nope.demo.test |
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p')"
settle

say "Questions answered from flowd's ring (filters run in flowd, as in \`hubble observe\`)"
# note WHAT: a comment line before a view
note() { printf '%s# %s%s\n' "$B" "$*" "$N"; }
note "which requests failed? (HTTP/1.1 and HTTP/2: values of one flag are ORed)"
show flowctl observe --http-status 4+ --http-status 5+
note "what did the client's last lookups get?"
show flowctl observe --protocol dns --from-pod demo/dns --last 2
note "what did the policy deny? (--print-policy-names: the rule)"
show flowctl observe --verdict DROPPED --verdict AUDIT --print-policy-names
note "Kafka traffic of demo/kafka, as a table"
show flowctl observe --protocol kafka --pod demo/kafka --last 4 -o table
note "L3/L4 flow records: flowd counts every packet and byte (flowd's flow_stats extension)"
show flowctl observe --type trace --port 8080 --last 2 -o json --field-mask IP,l4,Summary,flow_stats
note "every event is Hubble's JSON: identities of both ends, the rule that denied it, the request"
printf '$ flowctl observe --verdict AUDIT --first 1 -o json | jq .flow\n'
flowctl observe --verdict AUDIT --first 1 -o json | jq .flow

say "flowctl status"
flowctl status

# What must have been seen: requests and responses of every protocol, from
# flowd's ring through its socket; and what was lost on the way (nothing).
L7=$T_TMP/l7.json
flowctl observe --all --type l7 -o json >"$L7"
count() {   # count REQUEST|RESPONSE JQ-CONDITION-ON-.flow.l7
	jq "select(.flow.l7.type == \"$1\") | .flow.l7 | $2" "$L7" | grep -c true
}
missing=() seen=()
for p in "HTTP/1.1|.http.protocol == \"HTTP/1.1\"" \
	"HTTP/2|.http.protocol == \"HTTP/2\" and (.http.url | contains(\":8080/\"))" \
	"gRPC|.http.protocol == \"HTTP/2\" and (.http.url | contains(\"/flowd.test.Echo/\"))" \
	"DNS|.dns != null" "Kafka|.kafka != null"; do
	name=${p%%|*} q=${p#*|}
	req=$(count REQUEST "$q") resp=$(count RESPONSE "$q")
	seen+=("$name $req/$resp")
	[ "$req" -gt 0 ] && [ "$resp" -gt 0 ] || missing+=("no $name L7 events (requests: $req, responses: $resp)")
done
# the policy: the connection to port 22 denied (its SYN dropped), the
# /admin/ request and response audited
denied=$(flowctl observe --all --type policy-verdict --verdict DROPPED --to-port 22 | grep -c .)
audited=$(flowctl observe --all --verdict AUDIT --http-path '/admin/.*' | grep -c .)
[ "$denied" -gt 0 ] && [ "$audited" -eq 2 ] ||
	missing+=("not the policy's verdicts (connections to port 22 denied: $denied, /admin/ events audited: $audited of 2)")
ctr() { flowctl status -o json | jq -r ".counters.$1 // 0 | tonumber"; }
kernel=$(ctr l7_kernel_records) read=$(ctr l7_records) lost=$(ctr l7_lost_ring_full)
stop_wait "$FOLLOW_PID" INT
stop_wait "$FLOWD_PID"; rc=$?

say "Summary"
echo "   L7 requests/responses parsed from the packets, no proxy: $(printf '%s, ' "${seen[@]}" | sed 's/, $//')"
echo "   policy: $denied connection to demo/web:22 denied (dropped), $audited /admin/ events audited"
echo "   payload packets: $kernel handed over by the kernel, $read read by flowd, $lost lost"
echo "   $(grep -c . "$EV") events exported to events.json; flowd stopped with status $rc"
[ "${#missing[@]}" -eq 0 ] || die "$(printf '%s; ' "${missing[@]}")flowd's log ends: $(tail -2 "$T_TMP/flowd.log")"
[ "$rc" -eq 0 ] || die "flowd exited with status $rc: $(tail -2 "$T_TMP/flowd.log")"
echo "   done in $(( ($(date +%s%N) - T0) / 1000000000 )) s; namespaces, servers and files are removed now"
