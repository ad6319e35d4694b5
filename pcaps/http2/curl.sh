#!/usr/bin/env bash
# curl-h2.pcap: curl with HTTP/2:
#  1. --http2-prior-knowledge GET to nghttpd over IPv4,
#  2. --http2-prior-knowledge POST (form) to nghttpd over IPv6,
#  3. --http2 (HTTP/1.1 Upgrade: h2c) to a python3-h2 server: the GET is
#     answered on stream 1 after 101 Switching Protocols, then a second
#     URL on the same connection goes out as stream 3.
. "$(dirname "$0")/h2lab.sh"
lab_up
nghttpd_start
upgrade_server_start
lab_capture_start "$OUT/curl-h2.pcap" tcp port 8080 or tcp port 8081
in_c curl -s -o /dev/null --http2-prior-knowledge -H 'x-request-id: 5d1e8a52-0001' "http://$S4:8080/index.html"
in_c curl -s -g -o /dev/null --http2-prior-knowledge -d 'name=flowd&kind=test' "http://[$S6]:8080/form"
in_c curl -s -o /dev/null -o /dev/null --http2 "http://$S4:8081/upgraded" "http://$S4:8081/second"
lab_capture_stop
