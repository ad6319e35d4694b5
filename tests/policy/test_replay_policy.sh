#!/usr/bin/env bash
# flowctl replay --identities/--policy on the captures of real traffic in
# pcaps/: L7 rules labelling HTTP paths, DNS names and Kafka topics,
# toFQDNs from DNS answers in the capture, L3/L4 verdicts and
# policy-verdict events (AUDIT, never DROPPED: nothing was dropped in a
# capture), identities in the output and the identity filters, and files
# with errors. Counts are cross-checked with tshark where it can judge.
. "$(dirname "$0")/../lib/testlib.sh"
export LC_ALL=C

D=$TOP/tests/policy/data
P=$TOP/pcaps
rp() { "$FLOWCTL" replay "$@"; }

# --- HTTP paths (pcaps/http/keepalive.pcap: 3 connections, 6 requests) ------
HTTP=(--identities "$D/ids-web.yaml" --policy "$D/http-l7.yaml" "$P/http/keepalive.pcap")
rp "${HTTP[@]}" >"$T_TMP/http.json" 2>"$T_TMP/http.err"
check_eq "http: replay exits 0" "$?" 0
got=$(jq -r 'select(.flow.l7.type=="REQUEST") | [.flow.verdict, .flow.l7.http.method, .flow.l7.http.url,
	(.flow.ingress_denied_by[0].name // "-")] | join(" ")' "$T_TMP/http.json")
check_eq "http: request verdicts by path (GET /index.html and POST /upload allowed)" "$got" \
"FORWARDED GET http://198.18.0.2/index.html -
AUDIT GET http://198.18.0.2/big.txt -
AUDIT GET http://198.18.0.2/missing -
FORWARDED POST http://198.18.0.2/upload -
AUDIT GET http://198.18.0.2/redirect -
AUDIT GET http://198.18.0.2/status/500 no-status"
got=$(jq -r 'select(.flow.l7.type=="RESPONSE") | .flow.verdict' "$T_TMP/http.json" | tr '\n' ' ')
check_eq "http: responses carry their request's verdict" "$got" \
	"FORWARDED AUDIT AUDIT FORWARDED AUDIT AUDIT "
syns=$(tshark -n -r "$P/http/keepalive.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0'  2>/dev/null | wc -l)
got=$(jq -r 'select(.flow.event_type.type==5) | [.flow.verdict, .flow.policy_match_type,
	.flow.traffic_direction, .flow.ingress_allowed_by[0].name, .flow.ingress_allowed_by[0].kind] | join(" ")' \
	"$T_TMP/http.json" | sort | uniq -c | sed 's/^ *//')
check_eq "http: one policy-verdict event per connection ($syns SYNs in tshark)" "$got" \
	"$syns FORWARDED 2 INGRESS web-http FlowdPolicy"
check_eq "http: nothing DROPPED in a replay, even in enforce mode" \
	"$(grep -c '"verdict":"DROPPED"' "$T_TMP/http.json")" 0
first=$(rp "${HTTP[@]}" -o compact --print-policy-names | head -2)
check_eq "http: compact shows namespace/pod, identities and the rule" "$first" \
"Nov 27 12:33:50.751: production/client-7d9c8b6f4-x2k9p:37332 (ID:37170) -> production/web-0:80 (ID:1000) policy-verdict:L3-L4 INGRESS ALLOWED BY web-http (FlowdPolicy) (TCP Flags: SYN)
Nov 27 12:33:50.751: production/client-7d9c8b6f4-x2k9p:37332 (ID:37170) -> production/web-0:80 (ID:1000) from-network FORWARDED (TCP Flags: SYN)"
ep=$(jq -c 'select(.flow.Type=="L7") | .flow.source' "$T_TMP/http.json" | head -1)
check_eq "http: source endpoint from the identities file" "$ep" \
	'{"identity":37170,"namespace":"production","labels":["k8s:app=client","k8s:io.kubernetes.pod.namespace=production"],"pod_name":"client-7d9c8b6f4-x2k9p","workloads":[{"name":"client","kind":"Deployment"}]}'

# --- DNS names and toFQDNs (pcaps/dns) -----------------------------------------
DNS=(--identities "$D/ids-web.yaml" --policy "$D/dns-fqdn.yaml")
got=$(rp "${DNS[@]}" "$P/dns/udp.pcap" --type l7 | jq -r 'select(.flow.l7.type=="REQUEST") |
	.flow.verdict + " " + .flow.l7.dns.query' | tr '\n' ',')
check_eq "dns: matchPattern web.* allows web.test only" "$got" \
	"FORWARDED web.test.,FORWARDED web.test.,AUDIT www.test.,AUDIT test.,AUDIT nope.test.,AUDIT big.test.,"
got=$(rp "${DNS[@]}" "$P/dns/tcp.pcap" --type l7 | jq -r 'select(.flow.l7.type=="REQUEST") |
	.flow.verdict + " " + .flow.l7.dns.query' | sort | uniq -c | sed 's/^ *//' | tr '\n' ',')
check_eq "dns: the same rule over TCP" "$got" "$(tshark -n -r "$P/dns/tcp.pcap" -Y 'dns.flags.response==0' \
	-T fields -e dns.qry.name 2>/dev/null | awk '{print ($1 ~ /^web/ ? "FORWARDED " : "AUDIT ") $1 "."}' | sort | uniq -c |
	sed 's/^ *//' | tr '\n' ',')"
rp "${DNS[@]}" "$P/dns/then-http.pcap" >"$T_TMP/fqdn.json"
got=$(jq -r 'select(.flow.l4.TCP.destination_port==80 and (.flow.event_type.type==5 or .flow.Type=="L7")) |
	[.flow.event_type.type, .flow.verdict, (.flow.destination_names | join(",")),
	(.flow.egress_denied_by[0].name // "-")] | join(" ")' "$T_TMP/fqdn.json")
check_eq "dns: toFQDNs matches the address the capture's DNS answer gave" "$got" \
"5 AUDIT web.test no-http-to-web-test
129 AUDIT web.test no-http-to-web-test"
got=$(jq -r 'select(.flow.l4.TCP.destination_port==80 and .flow.flow_stats.event=="start") | .flow.verdict' \
	"$T_TMP/fqdn.json")
check_eq "dns: the denied connection's flow is AUDIT" "$got" "AUDIT"

# --- Kafka topics (pcaps/kafka/python.pcap) ------------------------------------
K=(--identities "$D/ids-kafka.yaml" --policy "$D/kafka-topics.yaml" "$P/kafka/python.pcap")
rp "${K[@]}" --type l7 >"$T_TMP/kafka.json"
got=$(jq -r 'select(.flow.l7.type=="REQUEST") | [.flow.verdict, .flow.l7.kafka.api_key,
	(.flow.l7.kafka.topic // "")] | join(" ")' "$T_TMP/kafka.json" | sort | uniq -c | sed 's/^ *//' |
	grep -v '^[0-9]* AUDIT \(apiversions\|metadata\|findcoordinator\|heartbeat\|joingroup\|leavegroup\|offsetcommit\|offsetfetch\|syncgroup\)')
# role produce covers produce, metadata and apiversions (as in Cilium)
check_eq "kafka: fetch allowed, offsets and the produce role only for topic orders" "$got" \
"1 AUDIT offsets payments
1 AUDIT produce orders,payments
1 AUDIT produce payments,orders
2 FORWARDED fetch orders,payments
8 FORWARDED fetch payments,orders
1 FORWARDED metadata orders
1 FORWARDED offsets orders"
reqs=$(jq -r 'select(.flow.l7.type=="REQUEST") | .flow.verdict' "$T_TMP/kafka.json" | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
check_eq "kafka: every other request AUDIT (49 requests)" "$reqs" "37 AUDIT 12 FORWARDED "

# --- identity filters (lib/filter.h) on replayed events -----------------------
cnt() { rp "${K[@]}" "$@" | wc -l; }
all=$(cnt)
ns_shop=$(cnt --namespace shop)
check_eq "filters: every Kafka event has the client in namespace shop" "$ns_shop" "$all"
check_eq "filters: --from-namespace kafka = the brokers' replies" "$(cnt --from-namespace kafka)" \
	"$(rp "${K[@]}" | jq -r 'select(.flow.IP.source != "198.18.0.2") | 1' | wc -l)"
check_eq "filters: --to-namespace kafka --type policy-verdict = connections (SYNs)" \
	"$(cnt --to-namespace kafka --type policy-verdict)" \
	"$(tshark -n -r "$P/kafka/python.pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0'  2>/dev/null | wc -l)"
check_eq "filters: --pod shop/orders-app-0 = all" "$(cnt --pod shop/orders-app-0)" "$all"
check_eq "filters: --pod kafka/ (no pod names there) = none" "$(cnt --pod kafka/x)" 0
check_eq "filters: --label app=kafka = all" "$(cnt --label app=kafka)" "$all"
check_eq "filters: --from-label k8s:app=orders-app = the requests side" "$(cnt --from-label k8s:app=orders-app)" \
	"$(rp "${K[@]}" | jq -r 'select(.flow.IP.source == "198.18.0.2") | 1' | wc -l)"
id=$(rp "${K[@]}" | jq -r '.flow.destination.identity' | sort -u | head -1)
check_eq "filters: --identity $id = all" "$(cnt --identity "$id")" "$all"
check_eq "filters: --namespace shop --verdict audit --type l7 = audited requests and responses" \
	"$(cnt --namespace shop --verdict audit --type l7)" 74
check_eq "filters: --not --to-label app=kafka -t l7 = responses" "$(cnt --not --to-label app=kafka -t l7)" \
	"$(jq -r 'select(.flow.l7.type=="RESPONSE") | 1' "$T_TMP/kafka.json" | wc -l)"

# --- files with errors: FILE:LINE:COLUMN messages, exit 2 ---------------------
printf 'endpoints:\n  - addresses: [198.18.0.1]\n    podname: x\n' >"$T_TMP/bad-ids.yaml"
err=$(rp --identities "$T_TMP/bad-ids.yaml" "$P/http/keepalive.pcap" 2>&1 >/dev/null); rc=$?
check_eq "errors: identities file refused (exit 2)" "$rc" 2
check_eq "errors: identities message with line and column" "$err" \
	"flowctl replay: $T_TMP/bad-ids.yaml:3:5: endpoints[0]: unknown key \"podname\" (expected one of: addresses, namespace, pod, workload, workloads, labels, identity)"
cat >"$T_TMP/bad-pol.yaml" <<'YAML'
mode: enforce
defaultAction: deny
rules:
  - {name: a, action: allow, direction: egress, fromCIDR: [198.18.0.0/16]}
  - name: b
    action: allow
    direction: ingress
    toPorts: [{ports: [{port: "80"}], rules: {http: [{path: "/api/(v1"}]}}]
YAML
err=$(rp --policy "$T_TMP/bad-pol.yaml" "$P/http/keepalive.pcap" 2>&1 >/dev/null); rc=$?
check_eq "errors: policy file refused (exit 2)" "$rc" 2
check_eq "errors: every policy problem with line and column" "$err" \
"flowctl replay: $T_TMP/bad-pol.yaml:4:49: rules[0]: fromCIDR is for ingress rules; this rule is egress (use toCIDR)
flowctl replay: $T_TMP/bad-pol.yaml:8:61: http.path: \"/api/(v1\": invalid regular expression: Unmatched ( or \\("
err=$(rp --policy /nonexistent.yaml "$P/http/keepalive.pcap" 2>&1 >/dev/null); rc=$?
check "errors: a missing policy file says so (exit $rc: $err)" [ "$rc" -eq 2 -a -n "$err" ]

t_done
