#!/usr/bin/env bash
# Live L7, HTTP/1.1 and HTTP/2: flowd attached to the server's veth, real
# servers (nginx on :80, nghttpd on :8080 without TLS) and real clients
# (curl, HTTP/1.1 one request per connection and keep-alive, IPv4 and IPv6;
# curl --http2-prior-knowledge). flowd must report exactly one request and
# one response event per transaction curl made, with the statuses curl saw,
# and the same L7 events as `flowctl replay` of a tcpdump capture of the
# same interface (tests/lib/l7_compare.py says what "the same" means).
# Two set-ups: XDP ingress + TC capture (default), and TC only.
. "$(dirname "$0")/../lib/testlib.sh"

C=lhc$T_ID S=lhs$T_ID
CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" && veth_pair "$C" "$CI" "$S" "$SI" || { fail "setup: namespaces"; t_done; }
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
addr_add "$C" "$CI" 2001:db8::1/64; addr_add "$S" "$SI" 2001:db8::2/64
check "setup: nginx serves in the server namespace" nginx_start "$S"
check "setup: nghttpd listens" nghttpd_start "$S" 8080

# curl_codes [OPTION] URL...: curl in the client namespace (several URLs:
# one keep-alive connection), one status per URL appended to $CODES.
curl_codes() {
	local a=() u
	case $1 in -*) a+=("$1"); shift ;; esac
	for u in "$@"; do a+=(-o /dev/null "$u"); done
	ip netns exec "$C" curl -s --max-time 5 -w '%{http_code}\n' "${a[@]}" >>"$CODES"
}

# h2_codes URL...: nghttp, HTTP/2 without TLS, all URLs as streams of one
# connection; the statuses appended to $CODES and $H2CODES.
h2_codes() {
	ip netns exec "$C" timeout 5 nghttp -ns "$@" | awk '$1 ~ /^[0-9]+$/ { print $5 }' |
		tee -a "$H2CODES" >>"$CODES"
}

traffic() {
	local p
	for p in / /nope /fail/ /status/ /big.bin; do
		curl_codes "http://198.18.0.2$p"
	done
	curl_codes "http://[2001:db8::2]/" "http://[2001:db8::2]/fail/"      # keep-alive
	curl_codes "http://198.18.0.2/" "http://198.18.0.2/nope" "http://198.18.0.2/fail/"
	curl_codes --http2-prior-knowledge "http://198.18.0.2:8080/index.html"
	curl_codes --http2-prior-knowledge "http://198.18.0.2:8080/big.bin"
	h2_codes "http://198.18.0.2:8080/index.html" "http://198.18.0.2:8080/missing" \
		"http://198.18.0.2:8080/nothing"
	sleep 0.3   # the last ACKs and FINs
}

# cut_bytes LOG: payload bytes flowd's kernel side did not hand over
cut_bytes() {
	local s b
	s=$(sed -n 's/.* l7_snap_cut_bytes=\([0-9]*\).*/\1/p' "$1")
	b=$(sed -n 's/.* l7_budget_cut_bytes=\([0-9]*\).*/\1/p' "$1")
	echo $(( ${s:-0} + ${b:-0} ))
}

# run_case NAME FLOWD_ARGS...
run_case() {
	local name=$1; shift
	local ev=$T_TMP/$name.json pcap=$T_TMP/$name.pcap log=$T_TMP/$name.log
	CODES=$T_TMP/$name.codes H2CODES=$T_TMP/$name.h2codes
	: >"$CODES"; : >"$H2CODES"
	flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" "$@" ||
		{ fail "$name: flowd did not start"; return; }
	tcpdump_start "$S" "$SI" "$pcap" || { fail "$name: tcpdump did not start"; return; }
	traffic
	check "$name: tcpdump dropped no packets" tcpdump_stop "$pcap"
	stop_wait "$FLOWD_PID"
	check_eq "$name: flowd exits 0" "$?" 0
	local n n200 n404 n500 n503
	n=$(grep -c . "$CODES")
	n200=$(grep -c '^200$' "$CODES"); n404=$(grep -c '^404$' "$CODES")
	n500=$(grep -c '^500$' "$CODES"); n503=$(grep -c '^503$' "$CODES")
	check_eq "$name: the clients made 15 transactions" "$n" 15
	check_eq "$name: nghttp got 200 404 404" "$(tr '\n' ' ' <"$H2CODES")" "200 404 404 "
	"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/$name.replay.json" ||
		fail "$name: flowctl replay failed"
	"$PY" "$TOP/tests/lib/l7_compare.py" "$name" "$ev" "$T_TMP/$name.replay.json" \
		--expect "http.request=$n" --expect "http.response=$n" \
		--expect "http.response.200=$n200" --expect "http.response.404=$n404" \
		--expect "http.response.500=$n500" --expect "http.response.503=$n503" \
		--expect "http2.request=5" --expect "http2.response=5" \
		--cut-bytes "$(cut_bytes "$log")" || T_FAILS=$((T_FAILS + 1))
	check "$name: no ring loss" grep -q ' l7_lost_ring_full=0 ' "$log"
	local kr ur
	kr=$(sed -n 's/.* l7_kernel_records=\([0-9]*\).*/\1/p' "$log")
	ur=$(sed -n 's/.* l7_records=\([0-9]*\).*/\1/p' "$log")
	check "$name: every record the kernel wrote was read (${kr:-?} = ${ur:-?})" \
		test -n "$kr" -a "$kr" = "$ur" -a "${kr:-0}" -gt 50
	check "$name: L7 events carry the interface" \
		grep -q "\"interface\":{\"index\":[0-9]*,\"name\":\"$SI\"}" "$ev"
}

run_case xdp
check "xdp: XDP ingress with TC capture" grep -q "ingress XDP native mode, egress TC" "$T_TMP/xdp.log"
run_case tc --xdp-mode off
check "tc: TC on both hooks" grep -q "ingress TC, egress TC" "$T_TMP/tc.log"

# A budget far below the bodies: the big bodies are gaps of known size, and
# the parsers stay in step: HTTP/1.1 on the keep-alive connection (every
# transaction after a cut body is still reported, with its status), HTTP/2
# with three downloads (their DATA frames interleaved, most frame headers
# cut) and two small answers as streams of one connection (frame boundaries
# found again after the gaps: every stream reported, complete, the cut
# downloads with gap_bytes).
name=budget ev=$T_TMP/budget.json pcap=$T_TMP/budget.pcap log=$T_TMP/budget.log
CODES=$T_TMP/budget.codes H2CODES=$T_TMP/budget.h2codes
: >"$CODES"; : >"$H2CODES"
head -c 300000 /dev/zero | tr '\0' y >"$NGINX_ROOT/big2.bin"
head -c 500000 /dev/zero | tr '\0' z >"$NGINX_ROOT/big3.bin"
if flowd_start "$S" "$log" -i "$SI" --poll-interval 100ms -e "$ev" --l7-budget 16k &&
	tcpdump_start "$S" "$SI" "$pcap"; then
	curl_codes "http://198.18.0.2/big.bin" "http://198.18.0.2/nope" "http://198.18.0.2/big.bin" \
		"http://198.18.0.2/fail/" "http://198.18.0.2/big.bin" "http://198.18.0.2/"
	h2_codes "http://198.18.0.2:8080/big3.bin" "http://198.18.0.2:8080/index.html" \
		"http://198.18.0.2:8080/big2.bin" "http://198.18.0.2:8080/missing" "http://198.18.0.2:8080/big.bin"
	sleep 0.3
	check "budget: tcpdump dropped no packets" tcpdump_stop "$pcap"
	stop_wait "$FLOWD_PID"
	check_eq "budget: curl saw 200 404 200 500 200 200, nghttp 200 200 200 200 404 (sorted)" \
		"$(head -6 "$CODES" | tr '\n' ' ') $(sort "$H2CODES" | tr '\n' ' ')" \
		"200 404 200 500 200 200  200 200 200 200 404 "
	cut=$(cut_bytes "$log")
	check "budget: the budget cut the bodies (${cut} bytes)" test "$cut" -gt 900000
	"$FLOWCTL" replay -o json "$pcap" >"$T_TMP/budget.replay.json" || fail "budget: flowctl replay failed"
	"$PY" "$TOP/tests/lib/l7_compare.py" budget "$ev" "$T_TMP/budget.replay.json" \
		--expect "http.request=11" --expect "http.response=11" --expect "http.response.200=8" \
		--expect "http.response.404=2" --expect "http.response.500=1" \
		--expect "http2.request=5" --expect "http2.response=5" --cut-bytes "$cut" ||
		T_FAILS=$((T_FAILS + 1))
	check "budget: cut bodies are reported as gaps" grep -q '"l7_info":{"gap_bytes":' "$ev"
	check_eq "budget: HTTP/2: 3 downloads cut, reported with their gaps; 5 responses, none truncated" "$("$PY" -c '
import json, sys
cut = n = 0
for line in open(sys.argv[1]):
    f = json.loads(line).get("flow", {})
    h = f.get("l7", {}).get("http", {})
    if f.get("Type") == "L7" and h.get("protocol") == "HTTP/2" and f["l7"]["type"] == "RESPONSE":
        info = f.get("l7_info", {})
        cut += h.get("url", "").endswith(".bin") and info.get("gap_bytes", 0) > 0
        n += not info.get("truncated")
print(cut, n)' "$ev")" "3 5"
else
	fail "budget: flowd or tcpdump did not start"
fi

# --no-l7: no L7 events, no capture
: >"$T_TMP/codes"
CODES=$T_TMP/codes
flowd_start "$S" "$T_TMP/nol7.log" -i "$SI" --poll-interval 100ms -e "$T_TMP/nol7.json" --no-l7 ||
	fail "no-l7: flowd did not start"
curl_codes "http://198.18.0.2/"
sleep 0.2
stop_wait "$FLOWD_PID"
check "no-l7: L3/L4 events only" test "$(grep -c '"L7"' "$T_TMP/nol7.json")" = 0 -a \
	"$(grep -c '"L3_L4"' "$T_TMP/nol7.json")" -gt 0
check "no-l7: no payload consumer" sh -c "! grep -q l7_records '$T_TMP/nol7.log'"
t_done
