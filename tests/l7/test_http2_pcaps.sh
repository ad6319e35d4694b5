#!/usr/bin/env bash
# HTTP/2 and gRPC captures of real peers (pcaps/http2, made by its *.sh
# scripts): `flowctl replay` gives the golden L7 events (NAME.golden: the L7
# lines without their uuid), agrees with tshark's HTTP/2 dissector and the
# clients' own logs (pcaps/http2/crosscheck.py), and on the captures cut
# mid-connection reports only what the complete capture confirms; on the
# capture with lost segments (bulk-gaps) every transaction is still
# reported, with exactly the body bytes that were removed. The h2c Upgrade
# case of Suricata's corpus gives the answer on stream 1 its request.
#
#   UPDATE=1 tests/l7/test_http2_pcaps.sh    rewrites the golden files
. "$(dirname "$0")/../lib/testlib.sh"
DIR=$TOP/pcaps/http2

l7_lines() {
	"$FLOWCTL" replay "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev.get("flow", {}).get("Type") == "L7":
        ev["flow"].pop("uuid", None)
        print(json.dumps(ev, separators=(",", ":")))'
}

counter() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }

crosscheck() {
	local name=$1; shift
	"$PY" "$DIR/crosscheck.py" "$FLOWCTL" "$@" |
		sed "s/^FAIL: /FAIL: http2 $name: /; s/^PASS: /PASS: http2 $name: /" >"$T_TMP/$name.cross"
	cat "$T_TMP/$name.cross"
	T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/$name.cross")))
	grep -q '^PASS' "$T_TMP/$name.cross" || fail "http2 $name: crosscheck printed nothing"
}

for pcap in "$DIR"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	[ -n "${UPDATE:-}" ] && l7_lines "$pcap" >"$DIR/$name.golden"
	l7_lines "$pcap" >"$T_TMP/$name.out"
	if diff -u "$DIR/$name.golden" "$T_TMP/$name.out" >"$T_TMP/$name.diff"; then
		pass "http2 $name: golden L7 events ($(wc -l <"$T_TMP/$name.out") lines)"
	else
		fail "http2 $name: golden L7 events differ: $(head -c 600 "$T_TMP/$name.diff")"
	fi
	"$FLOWCTL" replay --stats "$pcap" >/dev/null 2>"$T_TMP/$name.stats"
	case $name in
	grpc) crosscheck $name "$pcap" 50051 --log "$DIR/grpc.client.log" ;;
	nghttp) crosscheck $name "$pcap" 8080 --log "$DIR/nghttp.client.log" ;;
	h2load) crosscheck $name "$pcap" 8080 --log "$DIR/h2load.client.log" ;;
	curl-h2)
		crosscheck $name "$pcap" 8080,8081/http
		check_eq "http2 $name: h2c upgrade handed over" "$(counter l7.protocol_switches "$T_TMP/$name.stats")" 1 ;;
	bulk) crosscheck $name "$pcap" 8080 --log "$DIR/bulk.client.log" ;;
	bulk-gaps)
		# tshark on what remains, then against the complete capture and
		# what make_gaps.py removed
		crosscheck $name "$pcap" 8080
		crosscheck $name-lost "$pcap" 8080 --subset-of "$DIR/bulk.pcap" --lost "$DIR/bulk-gaps.lost"
		check_eq "http2 $name: every transaction of the complete capture reported" \
			"$(wc -l <"$T_TMP/$name.out")" "$(wc -l <"$DIR/bulk.golden")"
		check_eq "http2 $name: none truncated" "$(grep -c '"truncated":true' "$T_TMP/$name.out")" 0
		check "http2 $name: framing lost and found" \
			[ "$(counter http2.desync "$T_TMP/$name.stats")" -gt 0 -a \
			  "$(counter http2.resync "$T_TMP/$name.stats")" = "$(counter http2.desync "$T_TMP/$name.stats")" ]
		check "http2 $name: a lost header block: later references unknown, not guessed" \
			[ "$(counter http2.hpack_desync "$T_TMP/$name.stats")" -gt 0 -a \
			  "$(counter http2.unknown_fields "$T_TMP/$name.stats")" -gt 0 ] ;;
	grpc-midstream) crosscheck $name "$pcap" 50051 --subset-of "$DIR/grpc.pcap" ;;
	h2load-midstream)
		crosscheck $name "$pcap" 8080 --subset-of "$DIR/h2load.pcap"
		# every stream that starts after the cut (401..599) is complete
		check_eq "http2 $name: 100 streams after the cut, with method and URL" "$("$PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if (lambda h: h.get("code") == 200 and h.get("method") == "GET"
          and h.get("url"))(json.loads(l)["flow"]["l7"]["http"])))' "$T_TMP/$name.out")" 100 ;;
	esac
	case $name in
	*-gaps) ;;
	*-midstream)
		check "http2 $name: fields from unseen table entries counted" \
			[ "$(counter http2.unknown_fields "$T_TMP/$name.stats")" -gt 0 ]
		check "http2 $name: frame boundaries found" [ "$(counter http2.resync "$T_TMP/$name.stats")" -gt 0 ] ;;
	*)
		check_eq "http2 $name: no desync" "$(counter http2.desync "$T_TMP/$name.stats")" 0
		check_eq "http2 $name: no HPACK desync" "$(counter http2.hpack_desync "$T_TMP/$name.stats")" 0
		check_eq "http2 $name: no unknown field" "$(counter http2.unknown_fields "$T_TMP/$name.stats")" 0 ;;
	esac
done
# Suricata's http2-upgrade case (suricata-verify, in ../shared/corpus): curl
# asks nghttp2.org for /robots.txt with "Upgrade: h2c"; Suricata logs GET
# /robots.txt with status 200 on stream 1, and /humans.txt 404 on stream 3.
up=$TOP/../shared/corpus/suricata-verify/http2-upgrade/input.pcap
if [ -f "$up" ]; then
	"$FLOWCTL" replay -o compact "$up" | grep -E 'http-(request|response)' | cut -d' ' -f9- >"$T_TMP/up.txt"
	check_eq "http2 suricata http2-upgrade: HTTP/1.1 request, its 101, its HTTP/2 answer, stream 3" \
		"$(cat "$T_TMP/up.txt")" "http-request FORWARDED (HTTP/1.1 GET http://nghttp2.org/robots.txt)
http-response FORWARDED (HTTP/1.1 101 600ms (GET http://nghttp2.org/robots.txt))
http-response FORWARDED (HTTP/2 200 600ms (GET http://nghttp2.org/robots.txt))
http-request FORWARDED (HTTP/2 GET http://nghttp2.org/humans.txt)
http-response FORWARDED (HTTP/2 404 315ms (GET http://nghttp2.org/humans.txt))"
else
	fail "http2 suricata http2-upgrade: $up missing (the corpus sits next to the repository)"
fi
t_done
