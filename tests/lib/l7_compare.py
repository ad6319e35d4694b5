#!/usr/bin/python3
"""Live L7 events (flowd) against replayed ones (flowctl replay of a tcpdump
capture of the same interface): the definition of "the same L7 events".

  l7_compare.py NAME LIVE.json REPLAY.json [--expect KEY=N ...] [--cut-bytes N] [--no-replay]

Both files are NDJSON as flowd / `flowctl replay -o json` write them; only
L7 flows are compared. Per event, these fields legitimately differ and are
removed before comparing (README "Live L7"):
  time (flow and wrapper)   kernel clock vs capture clock
  uuid                      per run
  interface                 live knows the interface; a pcap file does not
  node_name                 host name vs --node-name
  l7.latency_ns, and the latency in the Summary of HTTP responses
                            (" 12ms (" -> " Nms (") from the two clocks
  l7_info.gap_bytes         live, payload the kernel did not hand over
                            (snap length, flow budget) is a gap; the live
                            total may exceed the replayed one by at most
                            --cut-bytes N (flowd's l7_snap_cut_bytes +
                            l7_budget_cut_bytes), never fall below it.
                            HTTP/2 counts the body bytes it did not see as
                            the message's, which includes the rest of a
                            frame whose header was cut: each HTTP/2 event's
                            live gap is at least its replayed one and at
                            most its Content-Length (when it has one); the
                            other events' total keeps the bound above
Everything else (addresses, ports, l4, Type, the whole l7 object, is_reply,
reply, event_type, verdict, names from DNS, l7_info, Summary) must be equal,
and the events must be the same multiset (order across connections may
differ; within a connection both follow packet order).

--expect KEY=N: exactly N live events of KEY, where KEY is
  http.request, http.response, http.response.<code>,
  dns.query, dns.response, dns.response.<rcode>,
  kafka.request, kafka.response, kafka.<api_key>, grpc.response.<status>...
Prints PASS:/FAIL: lines; exit status 1 on any failure.
"""
import json
import re
import sys
from collections import Counter

fails = 0


def out(ok, msg):
    global fails
    print(("PASS: " if ok else "FAIL: ") + msg)
    if not ok:
        fails += 1


def load(path):
    evs, lost = [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            rec = json.loads(line)
            if "lost_events" in rec:
                lost += int(rec["lost_events"].get("num_events_lost", 0))
                continue
            fl = rec.get("flow", {})
            if fl.get("Type") == "L7":
                evs.append(fl)
    return evs, lost


def gap_of(fl):
    return int(fl.get("l7_info", {}).get("gap_bytes", 0))


def normalize(fl):
    fl = json.loads(json.dumps(fl))
    for k in ("time", "uuid", "interface", "node_name"):
        fl.pop(k, None)
    info = fl.get("l7_info")
    if info is not None:
        info.pop("gap_bytes", None)
        if not info:
            del fl["l7_info"]
    l7 = fl.get("l7", {})
    l7.pop("latency_ns", None)
    if "Summary" in fl:
        fl["Summary"] = re.sub(r" \d+ms \(", " Nms (", fl["Summary"])
    return json.dumps(fl, sort_keys=True)


def is_h2(fl):
    return fl.get("l7", {}).get("http", {}).get("protocol") == "HTTP/2"


def content_length(fl):
    for h in fl.get("l7", {}).get("http", {}).get("headers", []):
        if h.get("key", "").lower() == "content-length" and h.get("value", "").isdigit():
            return int(h["value"])
    return None


def keys_of(fl):
    l7 = fl.get("l7", {})
    t = "request" if l7.get("type") == "REQUEST" else "response"
    ks = []
    if "http" in l7:
        h = l7["http"]
        if h.get("protocol") == "HTTP/2":
            ks.append("http2." + t)
        ks.append("http." + t)
        if t == "response":
            ks.append("http.response.%d" % h.get("code", 0))
            for hd in h.get("headers", []):
                if hd.get("key", "").lower() == "grpc-status":
                    ks.append("grpc.response.%s" % hd.get("value"))
    elif "dns" in l7:
        d = l7["dns"]
        ks.append("dns.query" if t == "request" else "dns.response")
        if t == "response":
            ks.append("dns.response.%d" % d.get("rcode", 0))
    elif "kafka" in l7:
        k = l7["kafka"]
        ks.append("kafka." + t)
        ks.append("kafka.%s.%s" % (k.get("api_key", "?"), t))
    return ks


def main():
    args = sys.argv[1:]
    name, live_p, replay_p = args[0], args[1], args[2]
    expects, no_replay, cut = [], False, 0
    i = 3
    while i < len(args):
        if args[i] == "--expect":
            expects.append(args[i + 1])
            i += 2
        elif args[i] == "--cut-bytes":
            cut = int(args[i + 1])
            i += 2
        elif args[i] == "--no-replay":
            no_replay = True
            i += 1
        else:
            sys.exit("l7_compare.py: unknown argument " + args[i])
    live, live_lost = load(live_p)
    counts = Counter(k for fl in live for k in keys_of(fl))
    for e in expects:
        k, n = e.split("=")
        out(counts[k] == int(n), "%s: %s live events: %d (want %s)" % (name, k, counts[k], n))
    if no_replay:
        sys.exit(1 if fails else 0)
    replay, _ = load(replay_p)
    out(live_lost == 0, "%s: no lost_events live (%d lost)" % (name, live_lost))
    out(len(live) == len(replay), "%s: as many L7 events live as replayed (%d, %d)"
        % (name, len(live), len(replay)))
    a = Counter(normalize(x) for x in live)
    b = Counter(normalize(x) for x in replay)
    only_live, only_replay = a - b, b - a
    out(not only_live and not only_replay, "%s: live and replayed L7 events are equal (%d events)"
        % (name, sum(a.values())))
    for ev, n in list(only_live.items())[:3]:
        print("  only live (%dx): %s" % (n, ev))
    for ev, n in list(only_replay.items())[:3]:
        print("  only replayed (%dx): %s" % (n, ev))
    extra = sum(gap_of(x) for x in live if not is_h2(x)) - sum(gap_of(x) for x in replay if not is_h2(x))
    out(0 <= extra <= cut, "%s: live gap bytes exceed the replayed ones by %d, within the %d bytes "
        "the kernel cut" % (name, extra, cut))
    h2 = [x for x in live if is_h2(x)]
    if h2:
        pairs = {}
        for side, evs in ((0, live), (1, replay)):
            for x in evs:
                if is_h2(x):
                    pairs.setdefault(normalize(x), ([], []))[side].append(x)
        bad = []
        for lv, rp in pairs.values():
            lv.sort(key=gap_of)
            rp.sort(key=gap_of)
            for a, b in zip(lv, rp):
                size = content_length(a)
                if gap_of(a) < gap_of(b) or (size is not None and gap_of(a) > size):
                    bad.append((a.get("Summary"), gap_of(a), gap_of(b), size))
        out(not bad, "%s: HTTP/2: live gap bytes of each of %d events between the replayed ones and "
            "its body size%s" % (name, len(h2), "" if not bad else ": %s" % bad[:3]))
    sys.exit(1 if fails else 0)


main()
