#!/usr/bin/env bash
# bulk.pcap: nghttp (client) and nghttpd (server), h2c prior knowledge, one
# connection carrying three downloads (120 kB, 80 kB and 40 kB, their DATA
# frames interleaved by the server) and three small requests (one 404);
# responses with trailers. Then a second connection with five requests, one after
# the other (-m 5: the HPACK tables are reused).
# bulk-gaps.pcap: bulk.pcap with segments removed (make_gaps.py: capture
# loss inside and across frames, a lost response header block, a lost
# request header block).
# bulk.client.log: what nghttp printed about each response.
. "$(dirname "$0")/h2lab.sh"
lab_up
nghttpd_start
www=$LAB_TMP/h2www
head -c 120000 /dev/zero | tr '\0' 'a' > "$www/big1.bin"
head -c 80000 /dev/zero | tr '\0' 'b' > "$www/big2.bin"
log=$OUT/bulk.client.log
: > "$log"
lab_capture_start "$OUT/bulk.pcap" tcp port 8080
in_c nghttp -nv "http://$S4:8080/big1.bin" "http://$S4:8080/big2.bin" "http://$S4:8080/app.js" \
	"http://$S4:8080/missing" "http://$S4:8080/style.css" "http://$S4:8080/data.bin" |
	grep -E 'recv \(stream_id=[0-9]+\) :status' >> "$log"
in_c nghttp -nv -m 5 -H 'x-custom: repeated value' "http://$S4:8080/app.js" |
	grep -E 'recv \(stream_id=[0-9]+\) :status' >> "$log"
lab_capture_stop
$PY "$H2DIR/make_gaps.py" "$OUT/bulk.pcap" "$OUT/bulk-gaps.pcap"
