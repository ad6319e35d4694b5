#!/usr/bin/env bash
# Live L7 under the highest HTTP load wrk drives on a veth pair here:
# nginx in one namespace, wrk in another, flowd on the server's veth.
# Three runs of DURATION seconds each: no flowd, flowd --no-l7 (L3/L4 only),
# flowd with live L7 (default). Prints, per run: wrk's requests/s, flowd's
# CPU (utime + stime from /proc/PID/stat) as a share of one core and per
# 1k requests/s, and for the L7 run the transactions flowd reported against
# wrk's count and the packets the kernel could not hand over (counted).
#
#   tests/bench/bench_l7_load.sh            (BENCH_SECONDS=10 CONNS=16 THREADS=1)
# Needs root, nginx, wrk. Not a test: prints figures.
. "$(dirname "$0")/../lib/testlib.sh"
DURATION=${BENCH_SECONDS:-10}
CONNS=${CONNS:-16}
THREADS=${THREADS:-1}
[ "$(id -u)" = 0 ] || { echo "bench_l7_load: needs root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench_l7_load: wrk is not installed" >&2; exit 1; }

C=blc$T_ID S=bls$T_ID CI=c$T_ID SI=s$T_ID
netns_add "$C" && netns_add "$S" || exit 1
ip link add "$CI" netns "$C" type veth peer name "$SI" netns "$S" || exit 1
ip -n "$C" link set "$CI" up; ip -n "$S" link set "$SI" up
addr_add "$C" "$CI" 198.18.0.1/24; addr_add "$S" "$SI" 198.18.0.2/24
nginx_start "$S" || { echo "bench_l7_load: nginx did not start" >&2; exit 1; }
# the same nginx without its access log (disk writes would dominate)
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null
sed -i 's/access_log [^;]*;/access_log off;/' "$T_TMP/nginx-$S/nginx.conf"
bg ip netns exec "$S" nginx -c "$T_TMP/nginx-$S/nginx.conf" -p "$T_TMP/nginx-$S"
wait_until 5 ip netns exec "$S" sh -c 'ss -ltnH | grep -q ":80 "' || { echo "nginx restart failed" >&2; exit 1; }

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME [FLOWD_ARGS...|none]
run() {
	local name=$1; shift
	local ev=$T_TMP/$name.json log=$T_TMP/$name.log pid="" t0=0 t1=0
	if [ "${1:-}" != none ]; then
		flowd_start "$S" "$log" -i "$SI" -e "$ev" --stats-interval "${STATS:-0}" "$@" || { echo "flowd failed" >&2; return; }
		# the flowd process itself (ip netns exec execs it)
		pid=$FLOWD_PID
		t0=$(cpu_ticks "$pid")
	fi
	ip netns exec "$C" wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --latency http://198.18.0.2/ \
		>"$T_TMP/$name.wrk" 2>&1
	sleep 1.5   # flowd drains the ring, the last flows are polled
	[ -n "$pid" ] && t1=$(cpu_ticks "$pid")
	[ -n "$pid" ] && stop_wait "$pid"
	local reqs rps cpu
	reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T_TMP/$name.wrk")
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$T_TMP/$name.wrk")
	if [ -n "$pid" ]; then
		# CPU over the wrk run plus the drain time
		cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$ticks" -v d="$DURATION" \
			'BEGIN { printf "%.1f", (b - a) / hz / (d + 1.5) * 100 }')
		per1k=$(awk -v c="$cpu" -v r="$rps" 'BEGIN { printf "%.2f", c / (r / 1000) }')
	else
		cpu=- per1k=-
	fi
	printf "%-10s %10s %10s %12s %14s\n" "$name" "$reqs" "$rps" "$cpu" "$per1k"
	eval "REQS_$name=$reqs"
}

echo "wrk -t$THREADS -c$CONNS -d${DURATION}s http://198.18.0.2/ (nginx, 1 worker) over a veth pair; $(nproc) CPUs shared by all"
printf "%-10s %10s %10s %12s %14s\n" "run" "requests" "req/s" "flowd CPU %" "CPU % per 1k/s"
run baseline none
run l34 --no-l7
run l7 ${L7_ARGS:-}
ev=$T_TMP/l7.json log=$T_TMP/l7.log
[ -n "${KEEP:-}" ] && cp "$log" /tmp/bench_l7_load.log
k() { sed -n "s/.* $1=\\([0-9]*\\).*/\\1/p" "$log" | tail -1; }
req=$(grep -c '"type":"REQUEST","http"' "$ev")
rsp=$(grep -c '"type":"RESPONSE".*"code":200' "$ev")
lost=$(( $(k l7_lost_ring_full) + $(k l7_lost_copy_error) ))
echo
echo "L7 run: wrk completed $REQS_l7 requests; flowd reported $req request and $rsp response (200) events"
awk -v r="$rsp" -v w="$REQS_l7" 'BEGIN { printf "  responses reported / wrk requests: %.4f%%\n", r / w * 100 }'
echo "  packets the kernel could not hand over: $lost (lost_events reported: $(k l7_lost_reported));" \
	"records: $(k l7_kernel_records), read: $(k l7_records)"
echo "  (requests still in flight when wrk stops at the deadline are seen by flowd but not counted by wrk)"
