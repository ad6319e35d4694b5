#!/usr/bin/env bash
# http/ipv6.pcap: curl over IPv6 to nginx: GET, HEAD (no body), a chunked
# POST request body (Transfer-Encoding: chunked from stdin) and a GET with a
# query string, each on its own connection.
. "$(dirname "$0")/../lab/lab.sh"
out=${1:-$PCAPS/http/ipv6.pcap}
lab_up
nginx_start
lab_capture_start "$out"
in_c curl -s -g -6 -o /dev/null "http://[$S6]/index.html"
in_c curl -s -g -6 -I -o /dev/null "http://[$S6]/small.txt"
printf 'part one\npart two\n' | in_c curl -s -g -6 -o /dev/null -H 'Transfer-Encoding: chunked' \
	--data-binary @- "http://[$S6]/upload"
in_c curl -s -g -6 -o /dev/null "http://[$S6]/data.json?x=1&y=two"
lab_capture_stop
