#!/usr/bin/env bash
# flowd --identities/--policy against real traffic on a veth: the XDP and TC
# programs apply the policy. Enforce mode: the denied connections really
# fail (deny rule, default deny, an egress connection at TC), the allowed
# ones work (IPv4, IPv6), with DROPPED drop events, policy-verdict events
# naming the rules, identities on both ends and the drop counters. SIGHUP to
# audit mode: the same connections succeed, reported AUDIT; a flow already
# running is judged again (ping across the reload). An invalid file is
# refused at start and on reload (line/column messages), the running policy
# stays. `flowctl observe --verdict DROPPED --namespace production` on the
# events shows exactly the denied flows.
. "$(dirname "$0")/../lib/testlib.sh"
export LC_ALL=C
if [ "$(id -u)" != 0 ]; then
	fail "flowd policy: needs root (network namespaces, XDP)"
	t_done
fi

C=fpc$T_ID S=fps$T_ID VC=pc$T_ID VS=ps$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$VC" "$S" "$VS" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$VC" 198.18.0.2/24; addr_add "$C" "$VC" 198.18.0.3/24   # .3: no identity (world)
addr_add "$C" "$VC" 2001:db8::2/64
addr_add "$S" "$VS" 198.18.0.1/24; addr_add "$S" "$VS" 2001:db8::1/64
mkdir -p "$T_TMP/www" && echo hello >"$T_TMP/www/index.html"
for port in 80 8080; do
	bg ip netns exec "$S" "$PY" -m http.server $port --bind :: --directory "$T_TMP/www" >/dev/null 2>&1
done
bg ip netns exec "$C" "$PY" -m http.server 9000 --bind 198.18.0.2 --directory "$T_TMP/www" >/dev/null 2>&1
wait_until 10 ip netns exec "$S" "$PY" -c 'import socket; socket.create_connection(("::1", 8080), 0.2)' ||
	fail "setup: http servers"

IDS=$T_TMP/ids.yaml POL=$T_TMP/policy.yaml EV=$T_TMP/events.json LOG=$T_TMP/flowd.log
cat >"$IDS" <<'YAML'
endpoints:
  - {addresses: [198.18.0.1, "2001:db8::1"], namespace: production, pod: web-0, labels: {app: web}, identity: 1000}
  - {addresses: [198.18.0.2, "2001:db8::2"], namespace: production, pod: frontend-0, labels: {app: frontend}, identity: 1001}
host: {detect: false}
YAML
write_policy() {   # MODE
	cat >"$POL" <<YAML
mode: $1
defaultAction: deny
rules:
  - name: web-from-frontend
    direction: ingress
    action: allow
    endpointSelector: {matchLabels: {app: web}}
    fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
  - name: no-admin-port
    direction: ingress
    action: deny
    endpointSelector: {matchLabels: {app: web}}
    toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
  - name: ping-web
    direction: ingress
    action: allow
    endpointSelector: {matchLabels: {app: web}}
    fromEndpoints: [{matchLabels: {app: frontend}}]
    toPorts: [{ports: [{port: "0", protocol: ANY}]}]
YAML
}
# curl from the client: the HTTP status, 000 when the connection failed
get() {   # URL [curl options]
	local url=$1; shift
	ip netns exec "$C" curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url"
}
# reload: SIGHUP, then wait for flowd's answer line (N+1 of its kind)
reload() {   # PATTERN
	local n
	n=$(grep -c "$1" "$LOG")
	kill -HUP "$FLOWD_PID"
	wait_until 10 test "$(grep -c "$1" "$LOG")" -gt "$n"
}
# jq over the events written so far
ev() { jq -r "$@" "$EV"; }

# --- an invalid policy: flowd does not start ----------------------------------
printf 'mode: enforce\ndefaultAction: deny\nrules:\n  - {name: a, action: allow, direction: inbound}\n' >"$POL"
ip netns exec "$S" "$FLOWD" -i "$VS" --identities "$IDS" --policy "$POL" >/dev/null 2>"$T_TMP/bad.log"
check_eq "start: invalid policy refused (exit 1)" "$?" 1
check_eq "start: the problem with line and column" "$(cat "$T_TMP/bad.log")" \
	"flowd: $POL:4:41: direction: unknown value \"inbound\" (expected one of: ingress, egress)"

# --- enforce --------------------------------------------------------------------
write_policy enforce
SOCK=$T_TMP/flowd.sock
flowd_start "$S" "$LOG" -i "$VS" --identities "$IDS" --policy "$POL" -e "$EV" --socket "$SOCK" \
	--poll-interval 100ms --idle-timeout 30s --stats-interval 0 || { fail "flowd did not start"; t_done; }
check "enforce: policy loaded before attaching" grep -q "policy loaded: $POL (revision [0-9]*, enforce mode, default deny, 3 rules)" "$LOG"

check_eq "enforce: frontend -> web:80 allowed" "$(get http://198.18.0.1/)" 200
check_eq "enforce: frontend -> web:80 over IPv6 allowed" "$(get 'http://[2001:db8::1]/')" 200
check_eq "enforce: frontend -> web:8080 fails (deny rule)" "$(get http://198.18.0.1:8080/)" 000
check_eq "enforce: world -> web:80 fails (default deny)" "$(get http://198.18.0.1/ --interface 198.18.0.3)" 000
check "enforce: ping frontend -> web allowed" ip netns exec "$C" ping -q -c 1 -W 1 198.18.0.1 >/dev/null
# web -> frontend:9000 leaves through TC egress, which drops its SYN: a
# timeout (28), not a refusal
ip netns exec "$S" curl -s -o /dev/null --max-time 1 http://198.18.0.2:9000/
check_eq "enforce: web -> frontend:9000 dropped at egress (curl times out)" "$?" 28
sleep 0.4   # one more poll

# the events: one policy-verdict per connection, the drops as drop events
# (IPv4 only: MLD reports of the interfaces come and go with their timing)
got=$(ev 'select(.flow.event_type.type==5 and .flow.IP.ipVersion=="IPv4") | [.flow.verdict, (.flow.policy_match_type // 0),
	.flow.traffic_direction, (.flow.drop_reason_desc // "-"),
	((.flow.ingress_allowed_by // .flow.ingress_denied_by // .flow.egress_denied_by // [{}])[0].name // "-"),
	(.flow.source.pod_name // .flow.IP.source), (.flow.destination.pod_name // .flow.IP.destination),
	(.flow.l4.TCP.destination_port // .flow.l4.ICMPv4.type)] | join(" ")' | sort | uniq -c | sed 's/^ *//')
check_eq "enforce: policy-verdict events" "$got" \
"1 DROPPED 0 EGRESS POLICY_DENIED - web-0 frontend-0 9000
1 DROPPED 0 INGRESS POLICY_DENIED - 198.18.0.3 web-0 80
1 DROPPED 3 INGRESS POLICY_DENY no-admin-port frontend-0 web-0 8080
1 FORWARDED 1 INGRESS - ping-web frontend-0 web-0 8
1 FORWARDED 2 INGRESS - web-from-frontend frontend-0 web-0 80"
check_eq "enforce: the IPv6 connection's policy-verdict" "$(ev 'select(.flow.event_type.type==5 and
	.flow.IP.ipVersion=="IPv6" and .flow.l4.TCP) | [.flow.verdict, .flow.ingress_allowed_by[0].name] | join(" ")')" \
	"FORWARDED web-from-frontend"
got=$(ev 'select(.flow.event_type.type==1 and .flow.IP.ipVersion=="IPv4") | [.flow.verdict, .flow.drop_reason, .flow.event_type.sub_type,
	.flow.drop_reason_desc, (.flow.is_reply|tostring), .flow.flow_stats.event,
	(.flow.l4.TCP.destination_port|tostring)] | join(" ")' | sort -u)
check_eq "enforce: denied flows are drop events (start)" "$got" \
"DROPPED 133 133 POLICY_DENIED null start 80
DROPPED 133 133 POLICY_DENIED null start 9000
DROPPED 181 181 POLICY_DENY null start 8080"
check_eq "enforce: IPv6 neighbor and multicast listener discovery never dropped" \
	"$(ev 'select(.flow.verdict=="DROPPED" and .flow.l4.ICMPv6) | 1' | wc -l)" 0
check "enforce: no reply flow of a denied connection" \
	test -z "$(ev 'select(.flow.l4.TCP.source_port==8080 or .flow.l4.TCP.source_port==9000) | 1')"
got=$(ev 'select(.flow.l4.TCP.source_port==80 and .flow.flow_stats.event=="start") | .flow.verdict' | sort -u)
check_eq "enforce: replies of allowed connections FORWARDED" "$got" "FORWARDED"

# --- identities in the output, observe's filters on the events ---------------
line=$("$FLOWCTL" observe --input-file "$EV" -o compact --type policy-verdict --print-policy-names \
	--to-port 8080 | sed 's/^[A-Z][a-z][a-z] [ 0-9]* [0-9:.]*: //; s/:[0-9]* (ID/:PORT (ID/')
# a denied verdict has no direction (is_reply absent): <>, as in Hubble
check_eq "compact: namespace/pod, identities, the rule" "$line" \
	"production/frontend-0:PORT (ID:1001) <> production/web-0:8080 (ID:1000) policy-verdict:L4-Only INGRESS DENIED BY no-admin-port (FlowdPolicy) (TCP Flags: SYN)"
got=$("$FLOWCTL" observe --input-file "$EV" -o compact --verdict DROPPED --namespace production |
	sed 's/^[A-Z][a-z][a-z] [ 0-9]* [0-9:.]*: //; s/\(:[0-9]*\) (/ (/; s/ (TCP.*//' | sort | uniq -c | sed 's/^ *//')
check_eq "observe --verdict DROPPED --namespace production: exactly the denied flows" "$got" \
"1 198.18.0.3 (world) <> production/web-0:80 (ID:1000) Policy denied DROPPED
1 198.18.0.3 (world) <> production/web-0:80 (ID:1000) policy-verdict:none INGRESS DENIED
1 production/frontend-0 (ID:1001) <> production/web-0:8080 (ID:1000) Policy denied by denylist DROPPED
1 production/frontend-0 (ID:1001) <> production/web-0:8080 (ID:1000) policy-verdict:L4-Only INGRESS DENIED
1 production/web-0 (ID:1000) <> production/frontend-0:9000 (ID:1001) Policy denied DROPPED
1 production/web-0 (ID:1000) <> production/frontend-0:9000 (ID:1001) policy-verdict:none EGRESS DENIED"
# the same, live: flowd's ring over its socket
got2=$("$FLOWCTL" observe --socket "$SOCK" --all -o compact --verdict DROPPED --namespace production |
	sed 's/^[A-Z][a-z][a-z] [ 0-9]* [0-9:.]*: //; s/\(:[0-9]*\) (/ (/; s/ (TCP.*//' | sort | uniq -c | sed 's/^ *//')
check_eq "observe --socket ... --verdict DROPPED --namespace production: the same from flowd's ring" "$got2" "$got"
check_eq "observe --from-label app=frontend --to-namespace production --type policy-verdict: 4 connections" \
	"$("$FLOWCTL" observe --input-file "$EV" --from-label app=frontend --to-namespace production --type policy-verdict | wc -l)" 4
check_eq "observe --identity 1000 --verdict FORWARDED -t trace --protocol tcp: the allowed connections, both ways" \
	"$("$FLOWCTL" observe --input-file "$EV" --identity 1000 --verdict FORWARDED -t trace --protocol tcp -o json |
	jq -r '.flow.flow_stats.event' | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')" "4 start "

# --- flowctl status: the drop counters ------------------------------------------
st=$("$FLOWCTL" status --socket "$SOCK")
check "status: drops per reason ($(grep -o 'drop_policy_den[a-z]*: [0-9]*' <<<"$st" | tr '\n' ' '))" \
	grep -q 'drop_policy_deny: [1-9]' <<<"$st"
check "status: policy revision shown" grep -q 'policy_revision: [1-9]' <<<"$st"

# --- flowctl policy load: audit mode -----------------------------------------------
ip netns exec "$C" ping -q -c 30 -i 0.1 -W 1 -I 198.18.0.3 198.18.0.1 >"$T_TMP/ping.out" 2>&1 &
PING=$!
sleep 0.6
cp "$POL" "$T_TMP/enforce.yaml"
write_policy audit
mv "$POL" "$T_TMP/audit.yaml"
cp "$T_TMP/enforce.yaml" "$POL"
out=$("$FLOWCTL" policy load "$T_TMP/audit.yaml" --socket "$SOCK")
check "audit: flowctl policy load ($out)" \
	grep -q "^$T_TMP/audit.yaml: loaded by flowd (revision [0-9]*, audit mode, 3 rules)$" <<<"$out"
check "audit: flowd says so" grep -q "policy reloaded: $T_TMP/audit.yaml (revision [0-9]*, audit mode" "$LOG"
check_eq "audit: frontend -> web:8080 passes" "$(get http://198.18.0.1:8080/)" 200
check_eq "audit: world -> web:80 passes" "$(get http://198.18.0.1/ --interface 198.18.0.3)" 200
wait "$PING"
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping.out")
check "audit: a running ping (world) is judged again at the reload: dropped before, passes after ($rx of 30)" \
	test "$rx" -ge 15 -a "$rx" -le 27
sleep 0.4
got=$(ev 'select(.flow.event_type.type==5 and .flow.verdict=="AUDIT") | [(.flow.l4.TCP.destination_port //
	.flow.l4.ICMPv4.type), ((.flow.ingress_denied_by // [{}])[0].name // "-")] | join(" ")' | sort | uniq -c | sed 's/^ *//')
check_eq "audit: policy-verdict AUDIT events (the ping's flow judged again)" "$got" \
"1 8 -
1 80 -
1 8080 no-admin-port"
check_eq "audit: audited flows are AUDIT, not drops" \
	"$(ev 'select(.flow.l4.TCP.destination_port==8080 and .flow.event_type.type==4) | .flow.verdict' | sort -u)" AUDIT

# --- invalid reloads keep the running policy -------------------------------------
printf 'mode: enforce\ndefaultAction: deny\nrules:\n  - {name: x, action: deny, direction: egress, toCIDR: [198.18.0.300/32]}\n' >"$T_TMP/audit.yaml"
reload "reload refused"
check_eq "invalid reload: refused with line and column" "$(grep -A1 'reload refused' "$LOG" | tail -1)" \
	"flowd:   $T_TMP/audit.yaml:4:57: toCIDR: \"198.18.0.300/32\" is not an IP address or CIDR"
check_eq "invalid reload: audit policy still in force (8080 passes)" "$(get http://198.18.0.1:8080/)" 200
out=$("$FLOWCTL" policy load "$T_TMP/audit.yaml" --socket "$SOCK" 2>&1)
check_eq "invalid load: flowctl finds the problem itself (exit $?)" "$out" \
	"flowctl policy: $T_TMP/audit.yaml:4:57: toCIDR: \"198.18.0.300/32\" is not an IP address or CIDR"
cp "$IDS" "$T_TMP/ids.good"
printf 'endpoints:\n  - {addresses: [198.18.0.1], labels: {app: web}, identity: 7}\n' >"$IDS"
out=$("$FLOWCTL" policy load "$POL" --socket "$SOCK" 2>&1)
check_eq "invalid load: flowd refuses when the identities file it rereads is broken (exit $?)" "$out" \
"flowctl policy: flowd refused the policy, the running one stays:
flowctl policy:   $IDS:2:61: identity: 7 is out of range (256..16777215)"
check_eq "invalid load: audit policy still in force (8080 passes)" "$(get http://198.18.0.1:8080/)" 200
cp "$T_TMP/ids.good" "$IDS"

# --- identities reloaded without a restart ----------------------------------------
sed -i 's/pod: web-0/pod: web-1/' "$IDS"
write_policy audit && mv "$POL" "$T_TMP/audit.yaml"   # the file flowd loaded last, valid again
reload "identities reloaded"
get http://198.18.0.1:8080/ >/dev/null
sleep 0.4
check_eq "identities: a SIGHUP renames the pod on new events" \
	"$(ev 'select(.flow.l4.TCP.destination_port==8080 and .flow.event_type.type==5) | .flow.destination.pod_name' | tail -1)" web-1

write_policy enforce
"$FLOWCTL" policy load "$POL" --socket "$SOCK" >/dev/null
check_eq "enforce again: flowctl policy load" "$?" 0
check_eq "enforce again: web:8080 fails" "$(get http://198.18.0.1:8080/)" 000
check_eq "enforce again: web:80 works" "$(get http://198.18.0.1/)" 200

stop_wait "$FLOWD_PID"
check_eq "flowd exits 0" "$?" 0
counters=$(grep 'flowd: counters:' "$LOG" | tail -1)
num() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$counters"; }
check "counters: drop_policy_deny=$(num drop_policy_deny) (deny rule drops)" test "$(num drop_policy_deny)" -ge 2
check "counters: drop_policy_denied=$(num drop_policy_denied) (default deny drops)" test "$(num drop_policy_denied)" -ge 3
check "counters: audit_policy_deny=$(num audit_policy_deny) audit_policy_denied=$(num audit_policy_denied)" \
	test "$(num audit_policy_deny)" -ge 1 -a "$(num audit_policy_denied)" -ge 1
check "counters: policy_forwarded=$(num policy_forwarded)" test "$(num policy_forwarded)" -ge 20
check_eq "counters: reloads=$(num reloads) reload_errors=$(num reload_errors)" "$(num reloads) $(num reload_errors)" "3 2"
check "detached" bash -c "! ip -n $S link show $VS | grep -q xdp"
t_done
