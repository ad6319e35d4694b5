#!/usr/bin/python3
"""A cleartext HTTP/2 server that also accepts the HTTP/1.1 "Upgrade: h2c"
dance (nghttpd 1.52 does not), built on python3-h2 (hyper-h2).

  h2c_upgrade_server.py ADDR PORT

Every request gets 200 with a small text body naming its path; the upgrade
request is answered on stream 1, as RFC 7540 §3.2 says. Requests without
the upgrade get 400.
"""
import socket
import sys
import threading

import h2.config
import h2.connection
import h2.events


def respond(conn, sid, path):
    body = b"you asked for " + path + b"\n"
    conn.send_headers(sid, [(":status", "200"), ("content-type", "text/plain"),
                            ("content-length", str(len(body))), ("server", "h2c-upgrade-test")])
    conn.send_data(sid, body, end_stream=True)


def serve(sock):
    cfg = h2.config.H2Configuration(client_side=False, header_encoding=None)
    conn = h2.connection.H2Connection(config=cfg)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ", 2)
    hdrs = {}
    for ln in lines[1:]:
        k, v = ln.split(b":", 1)
        hdrs[k.strip().lower()] = v.strip()
    if hdrs.get(b"upgrade", b"").lower() != b"h2c":
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        sock.close()
        return
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
    conn.initiate_upgrade_connection(hdrs[b"http2-settings"])
    respond(conn, 1, path)
    sock.sendall(conn.data_to_send())
    data = rest
    while True:
        if data:
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    respond(conn, ev.stream_id, dict(ev.headers)[b":path"])
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    sock.sendall(conn.data_to_send())
                    sock.close()
                    return
            sock.sendall(conn.data_to_send())
        data = sock.recv(65536)
        if not data:
            sock.close()
            return


def main():
    ls = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((sys.argv[1], int(sys.argv[2])))
    ls.listen(8)
    print("listening", flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


if __name__ == "__main__":
    main()
