#!/usr/bin/env bash
# Kafka captures of real clients and brokers (pcaps/kafka, made by
# pcaps/kafka/make_captures.sh): `flowctl replay` gives the golden L7 events
# (NAME.golden: the L7 lines without their uuid), agrees with tshark's Kafka
# dissector and with the clients' own record of what they sent and received
# (pcaps/kafka/crosscheck.py), and counts what it had to skip.
#
#   UPDATE=1 tests/l7/test_kafka_pcaps.sh    rewrites the golden files
. "$(dirname "$0")/../lib/testlib.sh"
DIR=$TOP/pcaps/kafka

l7_lines() {
	"$FLOWCTL" replay "$1" | "$PY" -c '
import json, sys
for line in sys.stdin:
    ev = json.loads(line)
    if ev.get("flow", {}).get("Type") == "L7":
        ev["flow"].pop("uuid", None)
        print(json.dumps(ev, separators=(",", ":")))'
}

# counter NAME FILE: value of a --stats counter
counter() { awk -v n="$1" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }' "$2"; }

for pcap in "$DIR"/*.pcap; do
	name=$(basename "$pcap" .pcap)
	if [ -n "${UPDATE:-}" ]; then
		l7_lines "$pcap" >"$DIR/$name.golden"
	fi
	l7_lines "$pcap" >"$T_TMP/$name.out"
	if diff -u "$DIR/$name.golden" "$T_TMP/$name.out" >"$T_TMP/$name.diff"; then
		pass "kafka $name: golden L7 events ($(wc -l <"$T_TMP/$name.out") lines)"
	else
		fail "kafka $name: golden L7 events differ: $(head -c 600 "$T_TMP/$name.diff")"
	fi
	case $name in
	bigmsgs-*)
		# derived from bigmsgs.pcap by deleting packets: tshark cannot read
		# messages with holes, so the oracle is the complete capture
		"$PY" - "$T_TMP/$name.out" "$DIR/bigmsgs.golden" "$name" <<-'PYEOF'
		import json, sys
		def events(path):
		    out = set()
		    for line in open(path):
		        f = json.loads(line)["flow"]; k = f["l7"]["kafka"]; t = f["l4"]["TCP"]
		        out.add((t["source_port"], t["destination_port"], f["l7"]["type"], k["api_key"],
		                 k.get("api_version", 0), k.get("correlation_id", 0), k.get("topic", ""),
		                 k.get("error_code", 0), str(f.get("l7_info", {}).get("gap_bytes", 0))))
		    return out
		part, full, name = events(sys.argv[1]), events(sys.argv[2]), sys.argv[3]
		strip = lambda s: {e[:-1] for e in s}
		gaps = sorted(e[-1] for e in part if e[-1] != "0")
		if name == "bigmsgs-loss":
		    ok = strip(part) == strip(full) and gaps == ["1448", "1448"]
		    print("%s: kafka %s: every event of the complete capture, two with gap_bytes 1448" %
		          ("PASS" if ok else "FAIL", name))
		else:
		    produce = [e for e in part if e[3] == "produce"]
		    ok = strip(part) <= strip(full) and not gaps and \
		        sorted((e[2], e[5]) for e in produce) == [("REQUEST", 4), ("RESPONSE", 4)]
		    print("%s: kafka %s: events of the complete capture only, from the first whole Produce on" %
		          ("PASS" if ok else "FAIL", name))
		PYEOF
		;;
	*)
		log=$DIR/$name.clientlog
		[ -f "$log" ] || log=
		"$PY" "$DIR/crosscheck.py" "$FLOWCTL" "$pcap" $log |
			sed "s/^FAIL: /FAIL: kafka crosscheck /; s/^PASS: /PASS: kafka crosscheck /" \
			>"$T_TMP/$name.cross"
		cat "$T_TMP/$name.cross"
		T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/$name.cross")))
		;;
	esac

	"$FLOWCTL" replay --stats "$pcap" >/dev/null 2>"$T_TMP/$name.stats"
	check_eq "kafka $name: nothing malformed" "$(counter kafka.malformed "$T_TMP/$name.stats")" 0
	case $name in
	bigmsgs-loss)
		check_eq "kafka $name: both lost segments reported as gaps" \
			"$(counter kafka.gap_bytes "$T_TMP/$name.stats")" 2896
		check_eq "kafka $name: framing kept" "$(counter kafka.desync "$T_TMP/$name.stats")" 0 ;;
	bigmsgs-cut)
		check "kafka $name: joined inside a message, skipped to the next" \
			[ "$(counter kafka.resync_skipped_bytes "$T_TMP/$name.stats")" -gt 0 ]
		check_eq "kafka $name: no desync" "$(counter kafka.desync "$T_TMP/$name.stats")" 0 ;;
	*)
		check_eq "kafka $name: no desync" "$(counter kafka.desync "$T_TMP/$name.stats")" 0
		check_eq "kafka $name: no unmatched response" \
			"$(counter kafka.response_unmatched "$T_TMP/$name.stats")" 0 ;;
	esac
done
t_done
