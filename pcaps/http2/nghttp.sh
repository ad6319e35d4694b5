#!/usr/bin/env bash
# nghttp.pcap: nghttp (client) and nghttpd (server), h2c prior knowledge,
# one connection per command:
#  1. GET / with its assets (-a): the server pushes /style.css
#     (PUSH_PROMISE), the client asks for /app.js; a 3000-byte request
#     header; response trailers (x-served-by).
#  2. the same page 5 times on one connection (-m 5): the dynamic table is
#     reused; the client announces a 64 KB decoder table (SETTINGS) and
#     shrinks its own encoder to 256 bytes (a dynamic table size update).
#  3. POST of 40000 bytes with a request trailer (echoed back).
#  4. GET of a missing file (404) and of /data.bin (40000 bytes in DATA).
# nghttp.client.log: what nghttp itself printed about each response.
. "$(dirname "$0")/h2lab.sh"
lab_up
nghttpd_start
big=$(head -c 3000 /dev/zero | tr '\0' 'b')
log=$OUT/nghttp.client.log
: > "$log"
lab_capture_start "$OUT/nghttp.pcap" tcp port 8080
in_c nghttp -nva -H "x-big: $big" "http://$S4:8080/index.html" | grep -E 'recv .*(:status|push_promise|x-served-by)|PUSH_PROMISE' >> "$log"
in_c nghttp -nv -m 5 -c 65536 --encoder-header-table-size=256 -H 'x-custom: repeated value' \
	"http://$S4:8080/app.js" | grep -E 'recv \(stream_id=[0-9]+\) :status' >> "$log"
head -c 40000 /dev/zero | tr '\0' 'p' > "$LAB_TMP/post.bin"
in_c nghttp -nv -d "$LAB_TMP/post.bin" --trailer 'x-checksum: 42' "http://$S4:8080/upload" | grep -E 'recv \(stream_id=[0-9]+\) :status' >> "$log"
in_c nghttp -nv "http://$S4:8080/missing" "http://$S4:8080/data.bin" | grep -E 'recv \(stream_id=[0-9]+\) :status' >> "$log"
lab_capture_stop
