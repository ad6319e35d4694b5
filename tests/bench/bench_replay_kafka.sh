#!/usr/bin/env bash
# Replay throughput on Kafka traffic: `flowctl replay` of a generated capture
# (build/bench/gen_kafka: producers and consumers over 120 connections, Produce
# v7/v9, Fetch v11-v13 with topic IDs, Metadata, OffsetCommit, Heartbeat;
# records up to 16 kB). Best of 3 runs, JSON written to /dev/null.
#   tests/bench/bench_replay_kafka.sh [CONNECTIONS [EXCHANGES]]
set -u
cd "$(dirname "$0")/../.."
conns=${1:-120} ex=${2:-100}
pcap=build/bench/kafka-$conns-$ex.pcap
[ -x build/bench/gen_kafka ] || make -s build/bench/gen_kafka || exit 1
if [ ! -s "$pcap" ] || [ build/bench/gen_kafka -nt "$pcap" ]; then
	build/bench/gen_kafka "$pcap" "$conns" "$ex" || exit 1
fi
bytes=$(stat -c %s "$pcap")
events=$(build/flowctl replay --stats "$pcap" 2>"$pcap.stats" | grep -c '"Type":"L7"')
packets=$(awk '$1 == "packets" { print $2 }' "$pcap.stats")
best= rss=
for _ in 1 2 3; do
	out=$( { /usr/bin/time -f '%e %M' build/flowctl replay "$pcap" >/dev/null; } 2>&1 | tail -1)
	t=${out% *} m=${out#* }
	if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
	rss=$m
done
awk -v b="$bytes" -v p="$packets" -v e="$events" -v t="$best" -v r="$rss" 'BEGIN {
	if (t <= 0) t = 0.001
	printf "kafka replay: %.1f MB, %d packets, %d L7 events in %.2f s: %.0f MB/s, %.0f kpackets/s, %.0f kevents/s, peak RSS %.1f MB\n",
		b / 1e6, p, e, t, b / 1e6 / t, p / 1e3 / t, e / 1e3 / t, r / 1024 }'
grep -E '^kafka\.' "$pcap.stats" | awk '$2 != 0 { printf "  %s %s\n", $1, $2 }'
