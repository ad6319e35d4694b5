#!/usr/bin/env bash
# `make demo` (tests/demo.sh) as CI runs it (no terminal): it must show live
# L7 events of all its protocols and its policy's verdicts through `flowctl
# observe`, exit 0, and remove everything it created; with flowd not
# capturing Kafka's port it must fail, naming Kafka; interrupted, it must
# clean up too.
. "$(dirname "$0")/../lib/testlib.sh"
DEMO=$TOP/tests/demo.sh

# leftovers NAME OUT: the namespaces and /etc/netns entries the run whose
# output is OUT created (its "namespaces demo-client-ID and demo-server-ID" line)
leftovers() {
	local id
	id=$(sed -n 's/.*namespaces demo-client-\([0-9a-f]*\) and.*/\1/p' "$1")
	[ -n "$id" ] || { echo "no namespace line"; return; }
	ip netns list | grep -E "^demo-(client|server)-$id( |$)"
	ls -d "/etc/netns/demo-client-$id" 2>/dev/null
}

out=$T_TMP/demo.out
start=$(date +%s)
"$DEMO" >"$out" 2>&1
rc=$?
secs=$(( $(date +%s) - start ))
check_eq "demo exits 0 (log: $(tail -1 "$out"))" "$rc" 0
check "demo ran in under 60 s (${secs}s)" test "$secs" -lt 60
# the follower's compact lines, one per kind of transaction the clients made
has() { check "$1" grep -qE -- "$2" "$out"; }
L='^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:.]{12}: demo/client:[0-9]+ \(ID:[0-9]+\)'
has "HTTP/1.1 request" "$L -> demo/web:80 \(ID:[0-9]+\) http-request FORWARDED \(HTTP/1.1 GET http://web.demo.test/fail/\)$"
has "HTTP/1.1 500" "$L <- demo/web:80 \(ID:[0-9]+\) http-response FORWARDED \(HTTP/1.1 500 [0-9]+ms \(GET http://web.demo.test/fail/\)\)$"
has "HTTP/2 404" "$L <- demo/web:8080 \(ID:[0-9]+\) http-response FORWARDED \(HTTP/2 404 [0-9]+ms \(GET http://web.demo.test:8080/missing\)\)$"
has "gRPC NOT_FOUND" "$L <- demo/grpc:50051 \(ID:[0-9]+\) http-response FORWARDED \(HTTP/2 200 [0-9]+ms \(POST http://grpc.demo.test:50051/flowd.test.Echo/Fail\) gRPC NOT_FOUND: no such item\)$"
has "DNS NXDOMAIN" "$L <- demo/dns:53 \(ID:[0-9]+\) dns-response  FORWARDED \(DNS Answer RCode: Non-Existent Domain TTL: 4294967295 \(Query nope.demo.test. A\)\)$"
has "Kafka produce" "$L -> demo/kafka:9092 \(ID:[0-9]+\) kafka-request FORWARDED \(Kafka request produce correlation id [0-9]+ topic 'orders'\)$"
has "Kafka fetch response" "$L <- demo/kafka:9092 \(ID:[0-9]+\) kafka-response FORWARDED \(Kafka response fetch correlation id [0-9]+ topic 'orders' return code 0\)$"
# the demo's own count, from flowd's ring: every transaction the clients made
sum=$(grep 'parsed from the packets' "$out")
check "summary: HTTP/1.1 5/5, HTTP/2 2/2, gRPC 9/9 ($sum)" grep -q 'HTTP/1.1 5/5, HTTP/2 2/2, gRPC 9/9, ' <<<"$sum"
dns=$(sed -n 's/.* DNS \([0-9]*\)\/\([0-9]*\),.*/\1 \2/p' <<<"$sum")
kafka=$(sed -n 's/.* Kafka \([0-9]*\)\/\([0-9]*\)$/\1 \2/p' <<<"$sum")
check "summary: DNS, at least the 2 digs and 4 lookups ($dns)" test "${dns% *}" -ge 6 -a "${dns#* }" -ge 6
check "summary: Kafka, both kcat runs ($kafka)" test "${kafka% *}" -ge 6 -a "${kafka#* }" -ge 5
check "filtered view: --http-status 4+ --http-status 5+ gives the 4 failed requests (404 404 404 500)" \
	test "$(sed -n '/^\$ flowctl observe --http-status 4+/,/^#/p' "$out" | grep -c 'http-response')" = 4
has "policy: the SYN to port 22 is denied, naming the rule" \
	"$L <> demo/web:22 \(ID:[0-9]+\) policy-verdict:L4-Only INGRESS DENIED BY web-no-ssh \(FlowdPolicy\) \(TCP Flags: SYN\)$"
has "policy: and dropped" "$L <> demo/web:22 \(ID:[0-9]+\) Policy denied by denylist DROPPED \(TCP Flags: SYN\)$"
has "policy: GET /admin/ audited" "$L -> demo/web:80 \(ID:[0-9]+\) http-request AUDIT \(HTTP/1.1 GET http://web.demo.test/admin/\)$"
check "policy: the JSON names the rule" grep -q '^      "name": "web-no-admin",$' "$out"
check "summary: policy" grep -qx '   policy: 1 connection to demo/web:22 denied (dropped), 2 /admin/ events audited' "$out"
check "nothing lost" grep -qE '^   payload packets: ([0-9]+) handed over by the kernel, \1 read by flowd, 0 lost$' "$out"
check_eq "cleaned up" "$(leftovers "$out")" ""

# flowd without Kafka's port in its capture selection: the demo must say so
fake=$T_TMP/build
mkdir -p "$fake/tools"
ln -s "$BUILD/flowctl" "$fake/flowctl"; ln -s "$BUILD/tools/kafka_mock" "$fake/tools/kafka_mock"
printf '#!/bin/sh\nexec %q "$@" --l7-ports 53,80,8080,50051\n' "$BUILD/flowd" >"$fake/flowd"
chmod +x "$fake/flowd"
BUILD=$fake "$DEMO" >"$T_TMP/nokafka.out" 2>&1
check_eq "no Kafka capture: exit 1" "$?" 1
check "no Kafka capture: says which protocol is missing" \
	grep -q '^demo: FAILED: no Kafka L7 events (requests: 0, responses: 0); flowd' "$T_TMP/nokafka.out"
check "no Kafka capture: the others were seen" grep -q 'HTTP/1.1 5/5, HTTP/2 2/2, gRPC 9/9, ' "$T_TMP/nokafka.out"
check_eq "no Kafka capture: cleaned up" "$(leftovers "$T_TMP/nokafka.out")" ""

# interrupted while the clients run (SIGINT to the script, as Ctrl-C gives)
set -m   # the demo in its own process group, where SIGINT is not ignored
"$DEMO" >"$T_TMP/int.out" 2>&1 &
pid=$!
set +m
wait_until 60 grep -q '^-- HTTP/2' "$T_TMP/int.out"
kill -INT "$pid"
wait "$pid"
check_eq "interrupted: exit 130" "$?" 130
check_eq "interrupted: cleaned up" "$(leftovers "$T_TMP/int.out")" ""
dir=$(sed -n 's/.*(files in \(.*\))$/\1/p' "$T_TMP/int.out")
check "interrupted: its files are removed ($dir)" test -n "$dir" -a ! -e "$dir"
check_eq "interrupted: no process of it left" "$(pgrep -f -- "$dir/" 2>/dev/null)" ""
t_done
