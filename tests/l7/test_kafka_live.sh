#!/usr/bin/env bash
# Kafka from fresh real traffic: kcat (librdkafka) and kafka-python against
# librdkafka's mock cluster in private namespaces (pcaps/kafka/make_captures.sh),
# captured, replayed, and cross-checked against tshark and against what the
# clients themselves logged (every request sent and response received, once).
. "$(dirname "$0")/../lib/testlib.sh"
if [ "$(id -u)" != 0 ]; then
	fail "kafka live: needs root (network namespaces)"
	t_done
fi
OUT=$T_TMP "$TOP/pcaps/kafka/make_captures.sh" kcat python >"$T_TMP/make.log" 2>&1 ||
	fail "kafka live: capture failed: $(tail -3 "$T_TMP/make.log")"
for sc in kcat python; do
	if [ ! -s "$T_TMP/$sc.pcap" ] || [ ! -s "$T_TMP/$sc.clientlog" ]; then
		fail "kafka live $sc: no capture"
		continue
	fi
	"$PY" "$TOP/pcaps/kafka/crosscheck.py" "$FLOWCTL" "$T_TMP/$sc.pcap" "$T_TMP/$sc.clientlog" |
		sed "s/^FAIL: /FAIL: kafka live /; s/^PASS: /PASS: kafka live /" >"$T_TMP/$sc.cross"
	cat "$T_TMP/$sc.cross"
	T_FAILS=$((T_FAILS + $(grep -c '^FAIL' "$T_TMP/$sc.cross")))
	# the scenario really exercised the parser
	n=$(sed -n 's/^# [^:]*: \([0-9]*\) requests.*/\1/p' "$T_TMP/$sc.cross")
	check "kafka live $sc: at least 30 requests seen (${n:-0})" [ "${n:-0}" -ge 30 ]
done
t_done
