#!/usr/bin/env bash
# flowctl observe --input-file: Hubble's filters, selectors and output
# formats applied to an exported NDJSON file (tests/cli/data/
# observe-input.ndjson: replayed DNS and HTTP events plus Hubble's own
# example lines), compared line by line; bad flags and bad lines.
. "$(dirname "$0")/../lib/testlib.sh"

IN=$TOP/tests/cli/data/observe-input.ndjson
obs() { "$FLOWCTL" observe --input-file "$IN" "$@"; }

# expect NAME CMD... <<EOF: stdout must be exactly the heredoc, exit 0
expect() {
	local name=$1; shift
	local want got rc
	want=$(cat)
	got=$("$@" 2>"$T_TMP/stderr"); rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$name: exit status $rc: $(head -c 300 "$T_TMP/stderr")"
	elif [ "$got" != "$want" ]; then
		fail "$name: output differs"
		diff <(echo "$want") <(echo "$got") | head -20 | sed 's/^/    /'
	else
		pass "$name"
	fi
}

# usage NAME MESSAGE ARGS...: exit status 2 and this message on stderr
usage() {
	local name=$1 msg=$2; shift 2
	local err rc
	err=$(obs "$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -eq 2 ] && [ "$err" == "flowctl observe: $msg (see flowctl observe --help)" ]; then
		pass "$name"
	else
		fail "$name: rc=$rc stderr='$err'"
	fi
}

LOST='Feb 14 10:00:05.003 EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) 1
Feb 14 10:00:05.100 EVENTS LOST: PERF_EVENT_RING_BUFFER CPU(3) 37'

check_eq "every line decodes" "$(obs | wc -l)" 26

expect "--protocol http (lost events are never filtered)" obs --protocol http <<EOF
Jul 21 11:58:06.228: [::1]:55717 (unknown) -> [::1]:8000 (unknown) http-request FORWARDED (HTTP/1.1 GET http://[::1]:8000/)
Jul 21 11:58:06.231: [::1]:55717 (unknown) <- [::1]:8000 (unknown) http-response FORWARDED (HTTP/1.1 200 3ms (GET http://[::1]:8000/))
Feb 14 10:00:01.118: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-request FORWARDED (HTTP/1.1 POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders)
Feb 14 10:00:01.162: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) <- shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-response FORWARDED (HTTP/1.1 201 43ms (POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders))
$LOST
EOF

expect "--http-status 2+ (responses only)" obs --http-status 2+ <<EOF
Jul 21 11:58:06.231: [::1]:55717 (unknown) <- [::1]:8000 (unknown) http-response FORWARDED (HTTP/1.1 200 3ms (GET http://[::1]:8000/))
Feb 14 10:00:01.162: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) <- shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) http-response FORWARDED (HTTP/1.1 201 43ms (POST http://checkout.shop.svc.cluster.local:8080/api/v1/orders))
$LOST
EOF

expect "-n shop --verdict dropped (AND across flags)" obs -n shop --verdict dropped <<EOF
Feb 14 10:00:04.700: shop/frontend-7d9c8b6f4-x2k9p:52200 (ID:32753) <> cilium.io:443 (ID:16777219) Policy denied DROPPED (TCP Flags: SYN)
$LOST
EOF

expect "--protocol kafka --protocol http --to-port 9092 (OR within a flag)" obs --protocol kafka --protocol http --to-port 9092 <<EOF
Feb 14 10:00:03.500: empire/empire-hq-6c5d4b7f9-8lq2w:51230 (ID:50112) -> empire/kafka-broker-0:9092 (ID:48230) kafka-request FORWARDED (Kafka request produce correlation id 8 topic 'empire-announce')
$LOST
EOF

expect "--last 2 --protocol udp" obs --last 2 --protocol udp <<EOF
Feb 13 01:26:02.123: 172.30.42.67:64499 (unknown) <- 192.5.5.241:53 (unknown) to-endpoint FORWARDED (UDP)
Feb 14 10:00:02.019: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) <- kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-response proxy FORWARDED (DNS Answer "140.82.121.6" TTL: 30 (Proxy api.github.com. A))
$LOST
EOF

expect "--first 3" obs --first 3 <<'EOF'
Feb 13 01:26:02.059: 172.30.42.67:64888 (unknown) -> 192.5.5.241:53 (unknown) to-endpoint FORWARDED (UDP)
Feb 13 01:26:02.059: 172.30.42.67:64888 (unknown) -> 192.5.5.241:53 (unknown) dns-request  FORWARDED (DNS Query . TXT)
Feb 13 01:26:02.083: 172.30.42.67:64888 (unknown) <- 192.5.5.241:53 (unknown) to-endpoint FORWARDED (UDP)
EOF

expect "--since/--until absolute" obs --since 2025-02-14T10:00:02Z --until 2025-02-14T11:00:04+01:00 <<'EOF'
Feb 14 10:00:02.019: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) <- kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-response proxy FORWARDED (DNS Answer "140.82.121.6" TTL: 30 (Proxy api.github.com. A))
Feb 14 10:00:03.500: empire/empire-hq-6c5d4b7f9-8lq2w:51230 (ID:50112) -> empire/kafka-broker-0:9092 (ID:48230) kafka-request FORWARDED (Kafka request produce correlation id 8 topic 'empire-announce')
EOF

check_eq "--since 1h: nothing that old is recent" "$(obs --since 1h | wc -l)" 0
check_eq "--until 1h: everything is older" "$(obs --until 1h | wc -l)" 26
check_eq "--not --protocol dns --ip 192.5.5.241" "$(obs --not --protocol dns --ip 192.5.5.241 | grep -c '192.5.5.241:53 (unknown) to-endpoint FORWARDED (UDP)')" 8

expect "--dns-query glob" obs --dns-query '*.github.com' <<EOF
Feb 14 10:00:02.019: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) <- kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-response proxy FORWARDED (DNS Answer "140.82.121.6" TTL: 30 (Proxy api.github.com. A))
$LOST
EOF

expect "--tcp-flags syn --from-label k8s:app=frontend" obs --tcp-flags syn --from-label k8s:app=frontend <<EOF
Feb 14 10:00:00.123: shop/frontend-7d9c8b6f4-x2k9p:44916 (ID:32753) -> shop/checkout-5f6c7d8b9-qwz7l:8080 (ID:45219) to-endpoint FORWARDED (TCP Flags: SYN)
Feb 14 10:00:04.700: shop/frontend-7d9c8b6f4-x2k9p:52200 (ID:32753) <> cilium.io:443 (ID:16777219) Policy denied DROPPED (TCP Flags: SYN)
$LOST
EOF

expect "-o json: the file's own lines, byte for byte" obs -o json --ip ::1 --http-method get <<EOF
$(grep -e '"method":"GET"' -e '^{"lost_events"' "$IN")
EOF

expect "-o json --field-mask" obs -o json --field-mask time,verdict --protocol kafka <<'EOF'
{"flow":{"time":"2025-02-14T10:00:03.500112004Z","verdict":"FORWARDED"},"node_name":"default/kind-worker2","time":"2025-02-14T10:00:03.500112004Z"}
{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"1"},"node_name":"default/kind-worker","time":"2025-02-14T10:00:05.003711402Z"}
{"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"37","cpu":3},"node_name":"default/kind-worker","time":"2025-02-14T10:00:05.100Z"}
EOF

expect "-o table" obs -o table --to-port 8000 -t l7 <<'EOF'
TIMESTAMP             SOURCE                   DESTINATION   TYPE           VERDICT     SUMMARY
Jul 21 11:58:06.228   [::1]:55717              [::1]:8000    http-request   FORWARDED   HTTP/1.1 GET http://[::1]:8000/
Feb 14 10:00:05.003   HUBBLE_RING_BUFFER       -             EVENTS LOST    -           CPU(0) - 1
Feb 14 10:00:05.100   PERF_EVENT_RING_BUFFER   -             EVENTS LOST    -           CPU(3) - 37
EOF

expect "-o dict --print-node-name --time-format RFC3339Milli" obs -o dict --first 2 --print-node-name --time-format RFC3339Milli <<'EOF'
  TIMESTAMP: 2019-02-13T01:26:02.059Z
       NODE: node-b
     SOURCE: 172.30.42.67:64888
DESTINATION: 192.5.5.241:53
       TYPE: to-endpoint
    VERDICT: FORWARDED
    SUMMARY: UDP
------------
  TIMESTAMP: 2019-02-13T01:26:02.059Z
       NODE: node-b
     SOURCE: 172.30.42.67:64888
DESTINATION: 192.5.5.241:53
       TYPE: dns-request 
    VERDICT: FORWARDED
    SUMMARY: DNS Query . TXT
EOF

expect "--numeric" obs --numeric --protocol kafka --first 1 <<'EOF'
Feb 14 10:00:03.500: 10.244.2.17:51230 (ID:50112) -> 10.244.2.9:9092 (ID:48230) kafka-request FORWARDED (Kafka request produce correlation id 8 topic 'empire-announce')
EOF

expect "--print-raw-filters" obs --print-raw-filters --protocol http --not --ip 10.0.0.1 <<'EOF'
allowlist:
    - '{"protocol":["http"]}'
denylist:
    - '{"source_ip":["10.0.0.1"]}'
    - '{"destination_ip":["10.0.0.1"]}'
EOF

expect "standard input, observe flows" sh -c "'$FLOWCTL' observe flows --input-file - --first 1 < '$IN'" <<'EOF'
Feb 13 01:26:02.059: 172.30.42.67:64888 (unknown) -> 192.5.5.241:53 (unknown) to-endpoint FORWARDED (UDP)
EOF

# bad flags and values: exit 2 with a clear message
usage "--first with --last" "--first cannot be combined with --last, --all or --follow" --first 2 --last 3
usage "table with follow" "table output format is not compatible with follow mode" -f -o table
usage "bad --since" 'bad --since "yesterday": a duration (30s, 5m, 1h30m) or a time (2006-01-02, 2006-01-02T15:04:05Z07:00, ...) is needed' --since yesterday
usage "unknown flag" 'unknown option "--bogus"' --bogus
usage "--field-mask without json" "--field-mask can only be used with -o json or -o jsonpb" --field-mask time
usage "--follow with a file" "--follow cannot be used with --input-file" --follow
usage "bad --http-status" 'invalid --http-status value "6xx": expected a status code (404) or a prefix (5+, 40+)' --http-status 6xx
usage "--last 0" 'bad --last "0": a positive number is needed' --last 0
usage "unknown output" 'unknown output format "yaml" (compact, dict, json, jsonpb, table)' -o yaml
usage "--until before --since" "--until 2025-02-13 is before --since 2025-02-14" --since 2025-02-14 --until 2025-02-13
usage "conflicting filters" "filters --from-ip and --ip cannot be combined" --ip 10.0.0.1 --from-ip 10.0.0.2
usage "trailing --not" "trailing --not found in the arguments" --not
usage "bad field mask path" 'bad --field-mask: invalid field mask path "sauce": unknown field "sauce"' -o json --field-mask sauce

# bad lines: reported with their number, skipped, exit 1
{ head -2 "$IN"; echo '{"flow":{"time":"yesterday"}}'; echo 'not json'; sed -n 3p "$IN"; } > "$T_TMP/bad.json"
out=$("$FLOWCTL" observe --input-file "$T_TMP/bad.json" 2>"$T_TMP/err"); rc=$?
check_eq "bad lines: exit 1" "$rc" 1
check_eq "bad lines: good ones printed" "$(echo "$out" | wc -l)" 3
check "bad lines: line 3 named" grep -q "^flowctl observe: $T_TMP/bad.json:3: " "$T_TMP/err"
check "bad lines: line 4 named" grep -q "^flowctl observe: $T_TMP/bad.json:4: " "$T_TMP/err"
check "bad lines: summary" grep -qx "flowctl observe: $T_TMP/bad.json: 2 invalid lines skipped" "$T_TMP/err"
"$FLOWCTL" observe --input-file "$T_TMP/missing.json" 2>"$T_TMP/err"; rc=$?
check_eq "missing file: exit 1" "$rc" 1
check_eq "missing file: message" "$(cat "$T_TMP/err")" "flowctl observe: $T_TMP/missing.json: No such file or directory"

# a closed pipe ends the output quietly
for _ in $(seq 200); do cat "$IN"; done > "$T_TMP/big.json"
"$FLOWCTL" observe --input-file "$T_TMP/big.json" 2>"$T_TMP/err" | head -1 >/dev/null
check_eq "closed pipe: exit 0" "${PIPESTATUS[0]}" 0
check_eq "closed pipe: no message" "$(cat "$T_TMP/err")" ""

t_done
