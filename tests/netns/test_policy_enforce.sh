#!/usr/bin/env bash
# L3/L4 policy against real traffic: the policy lookup (include/policy.bpf.h)
# in an XDP program (tests/bpf/policy_prog.bpf.c, pol_flow) on the server's
# veth, maps filled from a policy and an identities file by lib/policy_bpf.c,
# reloaded on SIGHUP. A denied connection really fails in enforce mode and
# succeeds in audit mode; an invalid reload keeps the running policy.
. "$(dirname "$0")/../lib/testlib.sh"
HELPER=$BUILD/tests/test_policy_bpf
if [ "$(id -u)" != 0 ]; then
	fail "policy enforce: needs root (network namespaces, XDP)"
	t_done
fi
[ -x "$HELPER" ] || { fail "policy enforce: $HELPER not built"; t_done; }

C=pec$T_ID S=pes$T_ID
netns_add "$C" && netns_add "$S" || { fail "policy enforce: namespaces"; t_done; }
ip link add vc$T_ID netns "$C" type veth peer name vs$T_ID netns "$S"
ip -n "$C" addr add 198.18.0.2/24 dev vc$T_ID
ip -n "$C" addr add 198.18.0.3/24 dev vc$T_ID   # an address with no identity: world
ip -n "$C" addr add 2001:db8::2/64 dev vc$T_ID nodad
ip -n "$S" addr add 198.18.0.1/24 dev vs$T_ID
ip -n "$S" addr add 2001:db8::1/64 dev vs$T_ID nodad
ip -n "$C" link set vc$T_ID up
ip -n "$S" link set vs$T_ID up

mkdir -p "$T_TMP/www" && echo hello >"$T_TMP/www/index.html"
for port in 80 8080; do
	bg ip netns exec "$S" "$PY" -m http.server $port --bind :: --directory "$T_TMP/www"
done
for _ in $(seq 50); do
	ip netns exec "$S" "$PY" -c 'import socket; socket.create_connection(("::1", 8080), 0.2)' 2>/dev/null && break
	sleep 0.1
done

IDS=$T_TMP/ids.yaml POL=$T_TMP/policy.yaml
cat >"$IDS" <<'YAML'
endpoints:
  - {addresses: [198.18.0.1, "2001:db8::1"], namespace: shop, pod: web-0, labels: {app: web}}
  - {addresses: [198.18.0.2, "2001:db8::2"], namespace: shop, pod: frontend-0, labels: {app: frontend}}
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
YAML
}
# curl from the client: prints the HTTP status, 000 when it failed
get() {   # URL [curl options]
	local url=$1; shift
	ip netns exec "$C" curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url"
}
# send SIGHUP and wait for the helper's answer (line number N+1 of its log)
reload() {
	local n
	n=$(grep -c '^policy ' "$T_TMP/helper.out")
	kill -HUP "$HELPER_PID"
	for _ in $(seq 50); do
		[ "$(grep -c '^policy ' "$T_TMP/helper.out")" -gt "$n" ] && break
		sleep 0.1
	done
	sleep 0.2
}

write_policy enforce
# `ip netns exec` execs the helper: signals to this pid reach it
ip netns exec "$S" "$HELPER" attach vs$T_ID "$POL" "$IDS" >"$T_TMP/helper.out" 2>&1 &
HELPER_PID=$!
T_PIDS+=("$HELPER_PID")
for _ in $(seq 50); do grep -q '^attached' "$T_TMP/helper.out" && break; sleep 0.1; done
check "policy enforce: $(grep -o 'attached (.*)' "$T_TMP/helper.out"), policy loaded" \
	grep -q '^policy loaded: enforce mode, 2 rules' "$T_TMP/helper.out"

check_eq "enforce: frontend -> web:80 allowed" "$(get http://198.18.0.1:80/)" 200
check_eq "enforce: frontend -> web:80 over IPv6 allowed" "$(get 'http://[2001:db8::1]:80/')" 200
check_eq "enforce: frontend -> web:8080 dropped (deny rule)" "$(get http://198.18.0.1:8080/)" 000
check_eq "enforce: unknown address -> web:80 dropped (default deny)" \
	"$(get http://198.18.0.1:80/ --interface 198.18.0.3)" 000

write_policy audit
reload
check "audit: reload accepted" grep -q '^policy loaded: audit mode, 2 rules' "$T_TMP/helper.out"
check_eq "audit: frontend -> web:8080 passes" "$(get http://198.18.0.1:8080/)" 200
check_eq "audit: unknown address -> web:80 passes" "$(get http://198.18.0.1:80/ --interface 198.18.0.3)" 200

printf 'mode: enforce\ndefaultAction: deny\nrules:\n  - {name: x, action: deny, direction: inbound}\n' >"$POL"
reload
check_eq "invalid reload: refused with position" \
	"$(grep '^policy refused' "$T_TMP/helper.out" | tail -1)" \
	"policy refused: $POL:4:40: direction: unknown value \"inbound\" (expected one of: ingress, egress)"
check_eq "invalid reload: running policy kept (still audit)" "$(get http://198.18.0.1:8080/)" 200

write_policy enforce
reload
check_eq "enforce again: web:8080 dropped" "$(get http://198.18.0.1:8080/)" 000
check_eq "enforce again: web:80 allowed" "$(get http://198.18.0.1:80/)" 200

kill -TERM "$HELPER_PID"
wait "$HELPER_PID"
counters=$(grep '^counters:' "$T_TMP/helper.out")
num() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$counters"; }
check "counters: packets dropped by the deny rule ($(num drop_policy_deny))" [ "$(num drop_policy_deny)" -ge 2 ]
check "counters: packets dropped by default deny ($(num drop_policy_denied))" [ "$(num drop_policy_denied)" -ge 1 ]
check "counters: packets audited ($(num audit_policy_deny), $(num audit_policy_denied))" \
	[ "$(num audit_policy_deny)" -ge 1 -a "$(num audit_policy_denied)" -ge 1 ]
check "counters: packets forwarded ($(num policy_forwarded))" [ "$(num policy_forwarded)" -ge 10 ]
check "detached" bash -c "! ip -n $S link show vs$T_ID | grep -q xdp"
t_done
