#!/usr/bin/env bash
# dns/then-http.pcap: curl resolves web.test through dnsmasq (A and AAAA
# over UDP), then fetches a page from nginx at the answer: the HTTP flows
# carry destination_names from the DNS answer seen earlier in the capture.
. "$(dirname "$0")/../lab/lab.sh"
out=${1:-$PCAPS/dns/then-http.pcap}
lab_up
nginx_start
dnsmasq_start
lab_capture_start "$out"
in_c curl -s -4 -o /dev/null "http://web.test/index.html"
lab_capture_stop
