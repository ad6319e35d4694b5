#!/usr/bin/python3
"""Cross-check flowd's HTTP/2 events on a capture against independent views.

  crosscheck.py FLOWCTL PCAP PORT[,PORT...] [--log CLIENT_LOG] [--subset-of FULL_PCAP [--lost LOST]]

PORT: server port decoded as HTTP/2 by tshark; PORT/http: decoded as HTTP/1.1
(a connection that upgrades to h2c: tshark follows the 101 itself).

- tshark (its own HTTP/2 dissector and HPACK decoder): every request and
  response it decodes must appear in `flowctl replay` with the same method,
  URL, status and header fields (trailers merged into the response, cookie
  crumbs joined), and flowd must report nothing else. The answer to an h2c
  Upgrade (stream 1, whose request was HTTP/1.1) carries the method and URL
  of the HTTP/1.1 request tshark saw with "Upgrade: h2c" on that
  connection (no HTTP/2 request event).
- the client's own log (grpc_peer.py, h2load, nghttp), when given.
- --subset-of: PCAP is FULL_PCAP with packets removed (joined mid-connection):
  every field flowd reports for it must be what it reports for one of the
  events of the same connection and direction in the complete capture, so
  a mid-stream join never yields a wrong value.
- --lost (PCAP made by make_gaps.py): the responses of the streams listed
  ("CLIENT_PORT STREAM_ID BYTES", stream ids as in FULL_PCAP, whose URLs
  tshark gives) report exactly BYTES as l7_info.gap_bytes, the other
  responses of their connections none, and none is truncated.
Prints PASS/FAIL lines.
"""
import collections
import json
import re
import subprocess
import sys


def replay(flowctl, pcap):
    out = subprocess.run([flowctl, "replay", pcap], check=True, capture_output=True, text=True).stdout
    evs = []
    for line in out.splitlines():
        f = json.loads(line)["flow"]
        if f.get("Type") == "L7" and "http" in f.get("l7", {}):
            evs.append(f)
    return evs


def ev_key(f):
    h = f["l7"]["http"]
    hdrs = tuple(sorted((x["key"].lower(), x["value"]) for x in h.get("headers", [])))
    return (f["l7"]["type"], h.get("method"), h.get("url"), h.get("code", 0), hdrs)


def tshark_upgrades(pcap, dec):
    """{tcp stream: (method, url)} of HTTP/1.1 requests asking for h2c."""
    out = subprocess.run(["tshark", "-n", "-r", pcap] + dec +
                         ["-Y", "http.request && http.upgrade", "-T", "fields", "-e", "tcp.stream",
                          "-e", "http.request.method", "-e", "http.request.full_uri", "-e", "http.upgrade"],
                         check=True, capture_output=True, text=True).stdout
    ups = {}
    for line in out.splitlines():
        conn, method, url, up = (line.split("\t") + ["", "", "", ""])[:4]
        if "h2c" in up.lower().split(","):
            ups.setdefault(conn, (method, url))
    return ups


def tshark_streams(pcap, ports):
    dec = []
    for p in ports:
        port, _, proto = p.partition("/")
        dec += ["-d", "tcp.port==%s,%s" % (port, proto or "http2")]
    upgrades = tshark_upgrades(pcap, dec)
    ports = [p.partition("/")[0] for p in ports]
    out = subprocess.run(["tshark", "-r", pcap] + dec +
                         ["-Y", "http2", "-T", "json", "--no-duplicate-keys", "-J", "tcp http2"],
                         check=True, capture_output=True, text=True).stdout
    streams = collections.OrderedDict()   # (tcp stream, h2 stream) -> state
    for pkt in json.loads(out or "[]"):
        lay = pkt["_source"]["layers"]
        tcp = lay["tcp"]
        conn = tcp["tcp.stream"]
        to_client = tcp["tcp.srcport"] in ports
        h2s = lay.get("http2", [])
        for h2 in (h2s if isinstance(h2s, list) else [h2s]):
            frames = h2.get("http2.stream", [])
            for fr in (frames if isinstance(frames, list) else [frames]):
                t = fr.get("http2.type")
                if t not in ("1", "5"):
                    continue
                hs = fr.get("http2.header", [])
                hs = hs if isinstance(hs, list) else [hs]
                fields = [(x.get("http2.header.name", ""), x.get("http2.header.value", "")) for x in hs]
                sid = fr.get("http2.streamid")
                if t == "5":
                    sid = next((v for k, v in fr.items() if "promised" in k and "stream" in k), None)
                    to_client_block = False
                else:
                    to_client_block = to_client
                st = streams.setdefault((conn, sid), {"req": None, "resp": None, "port": None,
                                                      "h1": upgrades.get(conn) if sid == "1" else None})
                if not to_client_block:
                    if st["req"] is None:
                        st["req"] = fields
                        st["port"] = tcp["tcp.dstport"] if to_client else tcp["tcp.srcport"]
                    continue
                status = dict(fields).get(":status")
                if st["resp"] is None:
                    if status and status.startswith("1"):
                        continue
                    st["resp"] = list(fields)
                else:
                    st["resp"] += [f for f in fields if not f[0].startswith(":")]
    return streams


def regular(fields, req_for_id=None):
    out, cookies = [], []
    for k, v in fields:
        if k.startswith(":"):
            continue
        if k == "cookie":
            cookies.append(v)
            continue
        out.append((k, v))
    if cookies:
        out.append(("cookie", "; ".join(cookies)))
    if req_for_id is not None and not any(k == "x-request-id" for k, _ in out):
        out += [(k, v) for k, v in req_for_id if k == "x-request-id"][:1]
    return tuple(sorted(out))


def url_of(req):
    d = dict(req)
    if ":path" not in d:
        return None
    host = d.get(":authority") or d.get("host")
    return "%s://%s%s" % (d.get(":scheme", "http"), host, d[":path"])


def expected(streams):
    exp = collections.Counter()
    for st in streams.values():
        req, resp = st["req"], st["resp"]
        method = url = None
        if req is not None:
            method, url = dict(req).get(":method"), url_of(req)
            exp[("REQUEST", method, url, 0, regular(req))] += 1
        elif st.get("h1"):
            method, url = st["h1"]   # stream 1 of an h2c upgrade
        if resp is not None:
            code = int(dict(resp).get(":status", "0"))
            exp[("RESPONSE", method, url, code, regular(resp, req or []))] += 1
    return exp


def check_tshark(evs, pcap, ports):
    exp = expected(tshark_streams(pcap, ports))
    # HTTP/1.1 events (an h2c Upgrade request and its 101) are http1.c's
    got = collections.Counter(ev_key(f) for f in evs if f["l7"]["http"].get("protocol") == "HTTP/2")
    missing, extra = exp - got, got - exp
    ok = not missing and not extra
    print("%s: tshark agrees on %d events (method, url, status, every header)%s" % (
        "PASS" if ok else "FAIL", sum(exp.values()),
        "" if ok else ": missing %s extra %s" % (list(missing.items())[:2], list(extra.items())[:2])))


def header(f, key):
    for x in f["l7"]["http"].get("headers", []):
        if x["key"] == key:
            return x["value"]
    return None


def check_log(evs, log):
    text = open(log).read()
    resps = [f for f in evs if f["l7"]["type"] == "RESPONSE"]
    if "messages_received=" in text:      # grpc_peer.py
        calls = re.findall(r"^(\w+) messages_received=(\d+) status=(\d+) \w+ details='(.*)'$", text, re.M)
        grpc = [f for f in resps if header(f, "Grpc-Status") is not None]
        got = [((f["l7"]["http"].get("url") or "").rsplit("/", 1)[-1], f.get("l7_info", {}).get("messages", 0),
                header(f, "Grpc-Status")) for f in grpc]
        want = [(name, int(n), st) for name, n, st, _ in calls]
        ok = got == want
        print("%s: client log: %d gRPC calls, replies and status as the client saw them%s" % (
            "PASS" if ok else "FAIL", len(want), "" if ok else ": got %s want %s" % (got, want)))
    elif text.startswith("requests:"):    # h2load
        done = int(re.search(r"(\d+) succeeded", text).group(1))
        ok2xx = int(re.search(r"(\d+) 2xx", text).group(1))
        got = sum(1 for f in resps if 200 <= f["l7"]["http"].get("code", 0) < 300)
        reqs = sum(1 for f in evs if f["l7"]["type"] == "REQUEST")
        ok = got == ok2xx and reqs == done
        print("%s: client log: h2load's %d requests and %d 2xx responses (flowd: %d, %d)" % (
            "PASS" if ok else "FAIL", done, ok2xx, reqs, got))
    else:                                 # nghttp -v lines
        want = collections.Counter(int(s) for s in re.findall(r":status: (\d+)", text))
        got = collections.Counter(f["l7"]["http"].get("code", 0) for f in resps)
        ok = want == got
        print("%s: client log: %d responses with nghttp's status codes%s" % (
            "PASS" if ok else "FAIL", sum(want.values()), "" if ok else ": got %s want %s" % (got, want)))


def check_subset(part, full):
    def conn(f):
        t = f["l4"]["TCP"]
        return (f["l7"]["type"], t["source_port"], t["destination_port"])
    same = collections.defaultdict(list)
    for f in full:
        same[conn(f)].append(f)
    bad = []
    for f in part:
        h = f["l7"]["http"]
        mine = set((x["key"], x["value"]) for x in h.get("headers", []))
        def agrees(g):
            gh = g["l7"]["http"]
            if any(k in h and h[k] != gh.get(k) for k in ("method", "url", "code", "protocol")):
                return False
            return mine <= set((x["key"], x["value"]) for x in gh.get("headers", []))
        if not any(agrees(g) for g in same.get(conn(f), [])):
            bad.append(f)
    print("%s: mid-stream: all %d events agree with the complete capture (no wrong field)%s" % (
        "PASS" if not bad else "FAIL", len(part), "" if not bad else ": %s" % json.dumps(bad[0])[:600]))


def check_lost(evs, full_pcap, ports, lost_file):
    urls = {}
    for (conn, sid), st in tshark_streams(full_pcap, ports).items():
        if st["req"] is not None and st["port"]:
            urls[(int(st["port"]), int(sid))] = url_of(st["req"])
    want = {}
    for line in open(lost_file):
        port, sid, n = (int(x) for x in line.split())
        want[(port, urls.get((port, sid)))] = n
    conns = set(p for p, _ in want)
    bad = []
    for f in evs:
        port = f["l4"]["TCP"]["destination_port"]
        if f["l7"]["type"] != "RESPONSE" or port not in conns:
            continue
        info = f.get("l7_info", {})
        key = (port, f["l7"]["http"].get("url"))
        got = int(info.get("gap_bytes", 0))
        if got != want.pop(key, 0) or info.get("truncated"):
            bad.append((key, got, info))
    missing = [k for k in want]
    ok = not bad and not missing
    print("%s: lost bytes: every response reports what was removed of its body (%s)%s" % (
        "PASS" if ok else "FAIL", ", ".join("%s %s" % (u.rsplit("/", 1)[-1] if u else u, n)
                                            for (_, u), n in sorted(lost_items(lost_file, urls))),
        "" if ok else ": wrong %s, no event for %s" % (bad[:3], missing[:3])))


def lost_items(lost_file, urls):
    for line in open(lost_file):
        port, sid, n = (int(x) for x in line.split())
        yield (port, urls.get((port, sid)) or ""), n


def main():
    args = sys.argv[1:]
    flowctl, pcap, ports = args[0], args[1], args[2].split(",")
    log = full = None
    if "--log" in args:
        log = args[args.index("--log") + 1]
    if "--subset-of" in args:
        full = args[args.index("--subset-of") + 1]
    evs = replay(flowctl, pcap)
    if full:
        check_subset(evs, replay(flowctl, full))
        if "--lost" in args:
            check_lost(evs, full, ports, args[args.index("--lost") + 1])
    else:
        check_tshark(evs, pcap, ports)
    if log:
        check_log(evs, log)


if __name__ == "__main__":
    main()
