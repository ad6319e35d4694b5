#!/usr/bin/env bash
# http/pipelining.pcap: a Python client writes four requests in one send
# (HTTP/1.1 pipelining; the last asks to close) and reads the responses;
# nginx answers them in order on the same connection.
. "$(dirname "$0")/../lab/lab.sh"
out=${1:-$PCAPS/http/pipelining.pcap}
lab_up
nginx_start
lab_capture_start "$out"
in_c $PY - "$S4" <<'PYEOF'
import socket, sys
s = socket.create_connection((sys.argv[1], 80))
paths = ["/index.html", "/small.txt", "/missing", "/data.json"]
reqs = b""
for i, p in enumerate(paths):
    close = b"Connection: close\r\n" if i == len(paths) - 1 else b""
    reqs += b"GET " + p.encode() + b" HTTP/1.1\r\nHost: web.test\r\nUser-Agent: pipeline-client/1\r\n" + close + b"\r\n"
s.sendall(reqs)
while s.recv(65536):
    pass
s.close()
PYEOF
lab_capture_stop
