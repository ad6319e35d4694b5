#!/usr/bin/env bash
# h2load.pcap: h2load, 300 requests on one connection with up to 100
# concurrent streams, to nghttpd; every request carries a 600-byte header,
# so the dynamic table fills and churns.
# h2load-midstream.pcap: the same capture without its first 25 packets (of 47): the
# connection preface, SETTINGS and the first 200 streams are missing,
# the server side starts in the middle of a frame.
. "$(dirname "$0")/h2lab.sh"
lab_up
nghttpd_start
val=$(head -c 600 /dev/zero | tr '\0' 'v')
lab_capture_start "$OUT/h2load.pcap" tcp port 8080
in_c h2load -n 300 -c 1 -m 100 -H "x-load: $val" "http://$S4:8080/index.html" "http://$S4:8080/style.css" \
	"http://$S4:8080/app.js" | grep -E '^requests|^status codes' > "$OUT/h2load.client.log"
lab_capture_stop
cut_capture "$OUT/h2load.pcap" "$OUT/h2load-midstream.pcap" 25
