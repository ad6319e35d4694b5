#!/usr/bin/env bash
# Extracts L7 payloads from peer-corpus captures into test vectors for the
# parser unit tests (tests/unit/test_dns.c, test_http1.c), so `make test`
# needs neither tshark nor the corpus. One line per TCP segment / UDP
# datagram carrying payload, in capture order:
#   <dir> <time_ns> <hex payload>      dir: 0 client->server, 1 server->client
# The server is the side using SERVER_PORT. Usage:
#   make_vectors.sh CAPTURE SERVER_PORT OUT.vec [DISPLAY-FILTER]
# Re-run from the repo root with ../shared/corpus (or /work/shared/corpus).
set -euo pipefail
cap=$1 port=$2 out=$3 filter=${4:-"udp.payload or tcp.len > 0"}
tshark -r "$cap" -n -Y "$filter" -T fields -E separator=' ' \
	-e frame.time_epoch -e udp.srcport -e tcp.srcport -e udp.payload -e tcp.payload |
awk -v port="$port" '
{
	# fields: time, udp sport (or empty), tcp sport (or empty), payload
	t = $1; sport = $2; payload = $NF
	split(t, p, "."); frac = substr(p[2] "000000000", 1, 9)
	dir = (sport == port) ? 1 : 0
	gsub(":", "", payload)
	print dir, p[1] frac, payload
}' > "$out"
echo "$out: $(wc -l < "$out") payloads"
