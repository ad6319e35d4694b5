#!/usr/bin/env bash
# Replay throughput on HTTP/2 + gRPC traffic (build/bench/gen_http2: h2c
# connections, 1-8 concurrent streams per exchange, browser-like GETs and
# gRPC unary calls, HPACK from nghttp2's encoder), as ratios like
# bench_replay.sh:
#   - a bare libpcap read loop (build/bench/tool_pcap_read): the floor
#   - flowctl replay -o json: every event (L3/L4 and L7), all fields
#   - flowctl replay, L7 events with the fields tshark extracts below
#   - tshark -T fields: stream id, method, path, authority, status
# Wall-clock seconds; the flowctl runs take the best of 3.
#
#   tests/bench/bench_replay_http2.sh [CONNECTIONS [EXCHANGES]]  (default 100 40)
set -u
cd "$(dirname "$0")/../.."
conns=${1:-100} ex=${2:-40}
dir=build/bench-data
pcap=$dir/http2-$conns-$ex.pcap
mkdir -p "$dir"
[ -x build/bench/gen_http2 ] && [ -x build/bench/tool_pcap_read ] ||
	make -s build/bench/gen_http2 build/bench/tool_pcap_read || exit 1
if [ ! -s "$pcap" ] || [ build/bench/gen_http2 -nt "$pcap" ]; then
	build/bench/gen_http2 "$pcap" "$conns" "$ex" || exit 1
fi
cat "$pcap" >/dev/null   # page cache: every run reads from memory

MASK=time,IP.source,IP.destination,l4,l7.http.method,l7.http.url,l7.http.code
TSHARK=(tshark -r "$pcap" -n -d tcp.port==8080,http2 -T fields -e frame.time_epoch -e ip.src -e ip.dst
	-e http2.streamid -e http2.headers.method -e http2.headers.path -e http2.headers.authority
	-e http2.headers.status)

best() {
	local n=$1; shift
	local b=""
	for _ in $(seq "$n"); do
		local t0 t1
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
		t1=$(date +%s%N)
		local d=$(( (t1 - t0) / 1000 ))
		if [ -z "$b" ] || [ "$d" -lt "$b" ]; then b=$d; fi
	done
	echo "$b"
}

read -r packets _ bytes _ < <(build/bench/tool_pcap_read "$pcap")
events=$(build/flowctl replay --stats "$pcap" 2>"$pcap.stats" | wc -l)
l7=$(build/flowctl replay "$pcap" --type l7 | wc -l)
rss=$( { /usr/bin/time -f '%M' build/flowctl replay "$pcap" >/dev/null; } 2>&1 | tail -1)
t_bare=$(best 3 build/bench/tool_pcap_read "$pcap")
t_all=$(best 3 build/flowctl replay "$pcap" -o json)
t_fields=$(best 3 build/flowctl replay "$pcap" --type l7 --field-mask "$MASK")
t_tshark=$(best 1 "${TSHARK[@]}")

awk -v p="$packets" -v b="$bytes" -v e="$events" -v l7="$l7" -v r="$rss" -v c="$conns" \
	-v tb="$t_bare" -v ta="$t_all" -v tf="$t_fields" -v tt="$t_tshark" 'BEGIN {
	printf "capture: %d h2c connections, %d packets, %.1f MB; flowctl emits %d events (%d L7, %d streams); peak RSS %.1f MB\n",
		c, p, b / 1e6, e, l7, l7 / 2, r / 1024
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s\n", "bare libpcap read loop", tb / 1e6, p / tb, b / tb
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s  %5.1fx the read loop, %.0f k L7 events/s\n", "flowctl replay -o json (all events)", ta / 1e6, p / ta, b / ta, ta / tb, l7 / 1e3 / (ta / 1e6)
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s  %5.1fx the read loop\n", "flowctl replay, tshark'"'"'s fields (L7, mask)", tf / 1e6, p / tf, b / tf, tf / tb
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s\n", "tshark -T fields (HTTP/2 headers)", tt / 1e6, p / tt, b / tt
	printf "  flowctl vs tshark: %.1fx faster (same fields), %.1fx faster (all events)\n", tt / tf, tt / ta }'
grep -E '^http2\.' "$pcap.stats" | awk '$2 != 0 { printf "  %s %s\n", $1, $2 }'
