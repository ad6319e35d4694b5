#!/usr/bin/env bash
# Regenerates observe-input.ndjson, the export-like file that
# tests/cli/test_observe_file.sh filters: real events from `flowctl replay`
# of two corpus captures (DNS over UDP, HTTP/1.1 over IPv6), then the
# example lines of ../shared/reference/hubble.md §1.6 (Hubble's own shape:
# pods, namespaces, identities, a policy drop, Kafka, lost events).
# The file is committed: the test checks filtering, not replay.
set -eu
cd "$(dirname "$0")/../../.."
C=/work/shared/corpus
{
	build/flowctl replay --node-name node-b "$C/tcpdump/dns-badvers.pcap/dns-badvers.pcap"
	build/flowctl replay --node-name node-a --uuid-seed 1 "$C/suricata-verify/http-ipv6/input.pcap"
	awk '/^```json/{f=1;next}/^```/{f=0}f' /work/shared/reference/hubble.md
} > tests/cli/data/observe-input.ndjson
