#!/usr/bin/env bash
# Captures derived from the real ones; re-run after re-making a base capture.
# Capture loss and reordering by lab/rewrite.py (the kernel here has no
# netem), other link types and file formats by lab/rewrite.py and
# Wireshark's editcap, a file cut short by head.
set -euo pipefail
cd "$(dirname "$0")"
RW=lab/rewrite.py
base=http/keepalive.pcap

# capture loss: a body segment of the chunked big.txt response; the whole
# request "GET /missing" (headers lost: the parser must resync)
$RW drop $base http/gap-body.pcap --after 'GET /big.txt' --side server --nth 2
$RW drop $base http/gap-request.pcap --match 'GET /missing' --side client
# reordering: two body segments of the big.txt response; the two body
# segments of the POST upload
$RW swap $base http/reorder.pcap.tmp --after 'GET /big.txt' --side server --nth 1
$RW swap http/reorder.pcap.tmp http/reorder.pcap --after 'POST /upload' --side client --nth 1
rm -f http/reorder.pcap.tmp
# snap length 128: payload beyond it is reported as gaps
editcap -s 128 http/pipelining.pcap http/pipelining-snap128.pcap
# a file cut in the middle of a record: replay says so after the output
size=$(stat -c %s $base)
head -c $((size * 2 / 3)) $base > http/keepalive-truncated.pcap

# DNS over TCP: the segment with the second query of a kept-open connection lost
$RW drop dns/tcp.pcap dns/tcp-gap.pcap --match 'api' --side client

# link types and file formats
$RW linktype $base link/raw.pcap raw
$RW linktype http/ipv6.pcap link/null-ipv6.pcap null
$RW linktype $base link/loop.pcap loop
editcap -F pcapng $base link/pcapng.pcapng

# fragmented DNS answers (dns/frag.pcap): reordered, a hole, duplicates,
# overlaps, snap length 300
FR=dns/frag_rewrite.py
$FR reverse dns/frag.pcap dns/frag-reverse.pcap
$FR drop dns/frag.pcap dns/frag-hole.pcap --which 1,4
$FR dup dns/frag.pcap dns/frag-dup.pcap --which 1,2
$FR overlap dns/frag.pcap dns/frag-overlap.pcap --which 1,2
editcap -s 300 dns/frag.pcap dns/frag-snap300.pcap
