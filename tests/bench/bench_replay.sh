#!/usr/bin/env bash
# Replay throughput on HTTP/1.1 + DNS traffic, in one run, as ratios:
#   - a bare libpcap read loop (build/bench/tool_pcap_read): the floor
#   - flowctl replay -o json: every event (L3/L4 start/end and L7), all fields
#   - flowctl replay with tshark's fields: the L7 events, field mask of the
#     same fields tshark extracts below
#   - tshark -r -T fields: method, URI, host, status, DNS name/answers/rcode
# Targets (issue 3): flowctl >= 30x faster than tshark, within 3x of the
# bare read loop. Wall-clock seconds; the fast runs take the best of 3.
#
#   tests/bench/bench_replay.sh [SESSIONS]    (default 25000: ~630k packets)
set -u
cd "$(dirname "$0")/../.."
sessions=${1:-25000}
dir=build/bench-data
pcap=$dir/http-dns-$sessions.pcap
mkdir -p "$dir"
[ -s "$pcap" ] || build/bench/gen_http_dns "$pcap" "$sessions" || exit 1
cat "$pcap" >/dev/null   # page cache: every run reads from memory

MASK=time,IP.source,IP.destination,l4,l7.http.method,l7.http.url,l7.http.code,l7.dns.query,l7.dns.ips,l7.dns.rcode
TSHARK_FIELDS=(-e frame.time_epoch -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e udp.srcport
	-e udp.dstport -e http.request.method -e http.request.uri -e http.host -e http.response.code
	-e dns.qry.name -e dns.a -e dns.flags.rcode)

# best wall time of N runs of a command, stdout discarded
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

for b in build/flowctl build/bench/tool_pcap_read; do
	[ -x "$b" ] || { echo "bench_replay: $b missing (make bench builds it)" >&2; exit 1; }
done
command -v tshark >/dev/null || { echo "bench_replay: tshark missing (make deps)" >&2; exit 1; }
read -r packets _ bytes _ < <(build/bench/tool_pcap_read "$pcap")
events=$(build/flowctl replay "$pcap" | wc -l)
[ "$events" -gt 0 ] || { echo "bench_replay: flowctl replay produced no events" >&2; exit 1; }
l7=$(build/flowctl replay "$pcap" --type l7 | wc -l)
json_mb=$(build/flowctl replay "$pcap" | wc -c)
t_bare=$(best 3 build/bench/tool_pcap_read "$pcap")
t_all=$(best 3 build/flowctl replay "$pcap" -o json)
t_fields=$(best 3 build/flowctl replay "$pcap" --type l7 --field-mask "$MASK")
t_tshark=$(best 1 tshark -r "$pcap" -n -T fields "${TSHARK_FIELDS[@]}")
[ -n "$t_bare" ] && [ -n "$t_all" ] && [ -n "$t_fields" ] && [ -n "$t_tshark" ] || exit 1

awk -v p="$packets" -v b="$bytes" -v e="$events" -v l7="$l7" -v j="$json_mb" \
	-v tb="$t_bare" -v ta="$t_all" -v tf="$t_fields" -v tt="$t_tshark" -v s="$sessions" 'BEGIN {
	printf "capture: %d sessions, %d packets, %.1f MB; flowctl emits %d events (%d L7), %.0f MB of JSON\n",
		s, p, b / 1e6, e, l7, j / 1e6
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s\n", "bare libpcap read loop", tb / 1e6, p / tb, b / tb
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s  %5.1fx the read loop\n", "flowctl replay -o json (all events)", ta / 1e6, p / ta, b / ta, ta / tb
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s  %5.1fx the read loop\n", "flowctl replay, tshark'"'"'s fields (L7, mask)", tf / 1e6, p / tf, b / tf, tf / tb
	printf "  %-44s %8.3f s %8.2f Mpkt/s %7.0f MB/s\n", "tshark -r -T fields (same fields)", tt / 1e6, p / tt, b / tt
	printf "  flowctl vs tshark: %.1fx faster (same fields), %.1fx faster (all events)\n", tt / tf, tt / ta
	printf "  targets: >= 30x tshark: %s; <= 3x the read loop: %s (same fields), %s (all events)\n",
		(tt / tf >= 30 ? "met" : "MISSED"), (tf / tb <= 3 ? "met" : "MISSED"), (ta / tb <= 3 ? "met" : "MISSED")
}'
