#!/usr/bin/env bash
# http/keepalive.pcap: curl fetches three URLs over one kept-alive
# connection to nginx (200, 200 gzip chunked, 404), then a POST upload with
# Expect: 100-continue on a second connection, then a 301 and a 500.
. "$(dirname "$0")/../lab/lab.sh"
out=${1:-$PCAPS/http/keepalive.pcap}
lab_up
nginx_start
lab_capture_start "$out"
in_c curl -s -o /dev/null -o /dev/null -o /dev/null --compressed \
	"http://$S4/index.html" "http://$S4/big.txt" "http://$S4/missing"
head -c 3000 /dev/zero | tr '\0' 'p' > "$LAB_TMP/post.bin"
in_c curl -s -o /dev/null -H 'Expect: 100-continue' --data-binary @"$LAB_TMP/post.bin" \
	"http://$S4/upload"
in_c curl -s -o /dev/null -o /dev/null "http://$S4/redirect" "http://$S4/status/500"
lab_capture_stop
