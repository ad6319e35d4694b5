#!/usr/bin/env bash
# flowctl observe/status against flowd's observer ring and socket API,
# served by build/tools/observer_harness (the daemon's observer, API server
# and exporter modules fed from commands instead of the kernel):
# selectors, server-side filters agreeing with local filtering, followers,
# two clients at once, a stalled client that loses exactly what the ring
# overwrote without slowing the others, status figures (ring, lost events,
# BPF run counts, exporter), export rotation with gzip.
. "$(dirname "$0")/../lib/testlib.sh"

HARNESS=$BUILD/tools/observer_harness
IN=$TOP/tests/cli/data/observe-input.ndjson
S=$T_TMP/flowd.sock
EXP=$T_TMP/export/flows.json
mkdir -p "$T_TMP/export"

coproc H { exec "$HARNESS" --socket "$S" --capacity 31 --export-file "$EXP" --export-max-size 4000 \
	--export-max-backups 1000 --export-compress --bpf-prog 2>"$T_TMP/harness.err"; }
HPID=$H_PID
T_PIDS+=("$HPID")
HIN=${H[1]} HOUT=${H[0]}
read -r -t 10 ready <&"$HOUT"
if [ "${ready:-}" != ready ]; then
	fail "harness did not start: $(cat "$T_TMP/harness.err")"
	t_done
fi
GEN=0
cmd() {
	local r
	echo "$*" >&"$HIN"
	read -r -t 30 r <&"$HOUT"
	[ "$r" == ok ] || fail "harness command '$*': ${r:-no answer}"
	[ "$1" == gen ] && GEN=$((GEN + $2))
	return 0
}
OBS=("$FLOWCTL" observe --socket "$S") # background runs: $! must be flowctl itself
obs() { "${OBS[@]}" "$@"; }
file_flows() { "$FLOWCTL" observe --input-file "$IN" "$@" | grep -v 'EVENTS LOST'; }
# wait_for FILE PATTERN: until FILE contains PATTERN (10 s at most)
wait_for() { for _ in $(seq 100); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
# clients connected now, the status request itself included
clients() { "$FLOWCTL" status --socket "$S" -o json | sed -n 's/.*"clients":\([0-9]*\).*/\1/p'; }
wait_clients() { for _ in $(seq 100); do [ "$(clients)" == "$1" ] && return 0; sleep 0.1; done; return 1; }

cmd load "$IN" # 24 flows (its 2 lost-event lines are not loaded)

# --- selectors --------------------------------------------------------------
check_eq "default is --last 20" "$(obs)" "$(file_flows --last 20)"
check_eq "--last 20 prints 20" "$(obs | wc -l)" 20
check_eq "--all" "$(obs --all)" "$(file_flows)"
check_eq "--first 2" "$(obs --first 2)" "$(file_flows --first 2)"
check_eq "--last 1 -o json: the exported line itself" "$(obs --last 1 -o json)" \
	"$(grep '"drop_reason_desc":"POLICY_DENIED"' "$IN")"
expect_since='Feb 14 10:00:02.019: shop/frontend-7d9c8b6f4-x2k9p:41501 (ID:32753) <- kube-system/coredns-7db6d8ff4d-2q9wv:53 (ID:15410) dns-response proxy FORWARDED (DNS Answer "140.82.121.6" TTL: 30 (Proxy api.github.com. A))
Feb 14 10:00:03.500: empire/empire-hq-6c5d4b7f9-8lq2w:51230 (ID:50112) -> empire/kafka-broker-0:9092 (ID:48230) kafka-request FORWARDED (Kafka request produce correlation id 8 topic '"'"'empire-announce'"'"')'
check_eq "--since/--until" "$(obs --since 2025-02-14T10:00:02Z --until 2025-02-14T10:00:04Z)" "$expect_since"
check_eq "--since 1h: old events are not recent" "$(obs --since 1h | wc -l)" 0
check_eq "-o table" "$(obs -o table --last 3)" "$(file_flows -o table --last 3)"
check_eq "-o dict" "$(obs -o dict --first 2 --print-node-name)" "$(file_flows -o dict --first 2 --print-node-name)"
check_eq "--field-mask applied by flowd" "$(obs -o json --first 1 --field-mask time,l4)" \
	'{"flow":{"time":"2019-02-13T01:26:02.059301Z","l4":{"UDP":{"source_port":64888,"destination_port":53}}},"node_name":"node-b","time":"2019-02-13T01:26:02.059301Z"}'

# --- server-side filters agree with the same filters applied to the file -----
while IFS= read -r f; do
	eval "args=($f)"
	check_eq "flowd filters: $f" "$(obs --all "${args[@]}")" "$(file_flows "${args[@]}")"
done <<'EOF'
--protocol http
--http-status 2+
-n shop --verdict dropped
--not --protocol dns --ip 192.5.5.241
--dns-query '*.github.com'
--tcp-flags syn --from-label k8s:app=frontend
--ip ::1 --port 8000
--to-port 53 -t l7
--protocol kafka --protocol http --to-port 9092
--node-name node-a --http-method get
--traffic-direction egress
EOF

# --- followers --------------------------------------------------------------
"${OBS[@]}" -f -o json --port 443 >"$T_TMP/f443" & F1=$!
"${OBS[@]}" -f -o json --to-port 80 >"$T_TMP/f80" & F2=$!
T_PIDS+=("$F1" "$F2")
check "two followers connected" wait_clients 3
cmd gen 10 # k = 1..10: odd ones to port 80, even ones to 443
check "follower 1 got its flows" wait_for "$T_TMP/f443" '"source_port":10010,'
check "follower 2 got its flows" wait_for "$T_TMP/f80" '"source_port":10009,'
sleep 0.2
check_eq "follower 1: exactly the port 443 ones" \
	"$(grep -o '"source_port":[0-9]*' "$T_TMP/f443" | tr '\n' ' ')" \
	'"source_port":10002 "source_port":10004 "source_port":10006 "source_port":10008 "source_port":10010 '
check_eq "follower 2: exactly the port 80 ones" \
	"$(grep -o '"source_port":[0-9]*' "$T_TMP/f80" | tr '\n' ' ')" \
	'"source_port":10001 "source_port":10003 "source_port":10005 "source_port":10007 "source_port":10009 '
kill -INT "$F1" "$F2"
wait "$F1"; check_eq "Ctrl-C ends a follow with status 0" "$?" 0
wait "$F2"

"${OBS[@]}" -f --last 2 --port 443 >"$T_TMP/fl" & F3=$!
T_PIDS+=("$F3")
check "--follow --last 2 replays" wait_for "$T_TMP/fl" ':10010 '
cmd gen 2
check "... then follows" wait_for "$T_TMP/fl" ':10012 '
kill -INT "$F3"; wait "$F3"
check_eq "--follow --last 2: lines" "$(grep -o '198.18.0.1:[0-9]*' "$T_TMP/fl" | tr '\n' ' ')" \
	'198.18.0.1:10008 198.18.0.1:10010 198.18.0.1:10012 '

# --- a stalled client ---------------------------------------------------------
# Its output goes to a pipe nobody reads yet: flowctl blocks, stops reading
# the socket, flowd's buffer for it fills and the ring (31) overwrites what
# it has not sent. Meanwhile a normal follower must get everything.
mkfifo "$T_TMP/pipe"
exec 7<>"$T_TMP/pipe"
"${OBS[@]}" -f -o json >"$T_TMP/pipe" & STALLED=$!
"${OBS[@]}" -f -o json >"$T_TMP/fast" & FAST=$!
T_PIDS+=("$STALLED" "$FAST")
check "stalled and fast clients connected" wait_clients 3
N=3000
first=$((GEN + 1)) last=$((GEN + N))
# Paced: the next batch only once the fast client has the last one. A batch
# (100 flows, ~65 kB) fits in the buffers flowd keeps for a client, so the
# fast client loses nothing however late it is scheduled; unpaced, a
# descheduled flowctl on a loaded machine fell 700+ flows behind and lost
# some. The stalled client still falls behind by the whole run.
for _ in $(seq $((N / 100))); do
	cmd gen 100
	wait_for "$T_TMP/fast" "\"source_port\":$((10000 + GEN))," || { fail "fast client: no flow $GEN"; break; }
done
check "fast client got the last flow" wait_for "$T_TMP/fast" "\"source_port\":$((10000 + last)),"
cat <&7 >"$T_TMP/stalled" & CAT=$!
T_PIDS+=("$CAT")
check "stalled client gets to the end" wait_for "$T_TMP/stalled" "\"source_port\":$((10000 + last)),"
kill -INT "$STALLED" "$FAST"; wait "$STALLED" "$FAST"
sleep 0.2; kill "$CAT"; exec 7<&-
fast_flows=$(grep -c '^{"flow"' "$T_TMP/fast")
check_eq "fast client: every flow" "$fast_flows" "$N"
check_eq "fast client: no loss" "$(grep -c lost_events "$T_TMP/fast")" 0
got=$(grep -c '^{"flow"' "$T_TMP/stalled")
lost=$(sed -n 's/^{"lost_events":{"source":"HUBBLE_RING_BUFFER","num_events_lost":"\([0-9]*\)".*/\1/p' "$T_TMP/stalled" | awk '{s += $1} END {print s + 0}')
check "stalled client lost some" [ "${lost:-0}" -gt 0 ]
check_eq "stalled client: received + announced lost = sent" "$((got + ${lost:-0}))" "$N"
check_eq "stalled client: in order, starting with the first" \
	"$(grep -o '"source_port":[0-9]*' "$T_TMP/stalled" | head -1)" "\"source_port\":$((10000 + first))"
check "compact output shows the loss" sh -c "'$FLOWCTL' observe --input-file '$T_TMP/stalled' | grep -q '^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:.]* EVENTS LOST: HUBBLE_RING_BUFFER CPU(0) [0-9]*\$'"

# --- status -------------------------------------------------------------------
cmd lost PERF_EVENT_RING_BUFFER 37
cmd run-prog 1000
cmd sync
st=$("$FLOWCTL" status --socket "$S")
total=$((24 + GEN))
grouped() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
check_eq "status: healthcheck" "$(echo "$st" | sed -n 1p)" "Healthcheck (via unix://$S): Ok"
check_eq "status: ring full" "$(echo "$st" | sed -n 2p)" "Current/Max Flows: 31/31 (100.00%)"
check_eq "status: seen flows" "$(echo "$st" | grep '^Seen Flows:')" "Seen Flows: $(grouped $total)"
check "status: flows/s" grep -qE '^Flows/s: [0-9]+\.[0-9]{2}$' <<<"$st"
check_eq "status: PERF lost" "$(echo "$st" | grep 'PERF_EVENT_RING_BUFFER:')" "  PERF_EVENT_RING_BUFFER: 37"
check_eq "status: ring lost = what the stalled client was told" \
	"$(echo "$st" | grep 'HUBBLE_RING_BUFFER:' | tr -d ' ,')" "HUBBLE_RING_BUFFER:$lost"
check "status: BPF program run 1,000 times, run time counted" \
	grep -qE '^  [0-9]+ +socket_filter +harness_prog +1,000 +[0-9.]+(ns|µs|ms) +[0-9.]+ns$' <<<"$st"
check "status: run time on" grep -q '^BPF Programs (run time counted by the kernel):$' <<<"$st"
records=$((total + 1)) # flows + the PERF notice
check_eq "status: exporter written" "$(echo "$st" | grep -o 'Written: [0-9,]* events' | tr -d ,)" "Written: $records events"
json=$("$FLOWCTL" status --socket "$S" -o json)
check "status -o json: Hubble fields" grep -q "^{\"num_flows\":\"31\",\"max_flows\":\"31\",\"seen_flows\":\"$total\",\"uptime_ns\":\"[0-9]*\",\"version\":\"flowd harness\"" <<<"$json"
check "status -o json: parses" $PY -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["bpf_programs"][0]["run_cnt"]=="1000"' "$json"

# --- export: rotation, gzip, nothing lost ---------------------------------------
n_backups=$(ls "$T_TMP/export" | grep -cE '^flows-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}\.json\.gz$')
check "export: rotated and gzipped" [ "$n_backups" -gt 10 ]
check_eq "export: only the current file is uncompressed" "$(ls "$T_TMP/export" | grep -vc '\.gz$')" 1
lines=$(( $(zcat "$T_TMP"/export/flows-*.json.gz | wc -l) + $(wc -l <"$EXP") ))
check_eq "export: every record in the files" "$lines" "$records"
big=$(for f in "$T_TMP"/export/flows-*.gz; do zcat "$f" | wc -c; done | sort -n | tail -1)
check "export: no file above the max size" [ "$big" -le 4000 ]
check_eq "export: the PERF notice is in the current file" \
	"$(grep -c '"lost_events":{"source":"PERF_EVENT_RING_BUFFER","num_events_lost":"37"' "$EXP")" 1

# --- errors -----------------------------------------------------------------------
out=$("$FLOWCTL" observe --socket "$T_TMP/none.sock" 2>&1); rc=$?
check_eq "no flowd: exit 1" "$rc" 1
check_eq "no flowd: message" "$out" "flowctl observe: cannot connect to flowd at $T_TMP/none.sock: No such file or directory (is flowd running? --socket PATH)"
out=$("$FLOWCTL" status --socket "$T_TMP/none.sock" 2>&1); rc=$?
check_eq "status, no flowd: exit 1" "$rc" 1

echo quit >&"$HIN"
wait "$HPID" 2>/dev/null
check "socket removed at exit" [ ! -e "$S" ]
t_done
