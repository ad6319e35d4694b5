#!/usr/bin/python3
"""Cross-check flowctl's Kafka events for a capture against two independent
oracles:

  tshark   Wireshark's Kafka dissector: per connection, the same requests and
           responses in the same order (api key, version, correlation id),
           the same topic names, error codes consistent with ours.
  clients  NAME.clientlog next to the capture (see make_captures.sh): every
           request the clients sent and response they received, as
           "<broker> sent|recv <Api> v<N> corr <id>"; ours must be the same
           multiset.

usage: crosscheck.py FLOWCTL CAPTURE [CLIENTLOG]
Prints PASS:/FAIL: lines (tests/run.sh format); exit status 1 on a failure.
"""
import collections
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
FAILS = 0
NOTES = collections.Counter()


def result(ok, name, why=""):
    global FAILS
    if ok:
        print("PASS: %s" % name)
    else:
        FAILS += 1
        print("FAIL: %s %s" % (name, why))


def api_names():
    """api key number -> our name, from l7/kafka_api.c (one source of truth)."""
    src = open(os.path.join(HERE, "../../l7/kafka_api.c")).read()
    return {int(k): n for k, n in re.findall(r'\[(\d+)\] = API\w*\("([a-z]+)"', src)}


NAMES = api_names()
DECODED_REQ = {int(k) for k in re.findall(
    r'\[(\d+)\] = API_RQ\(', open(os.path.join(HERE, "../../l7/kafka_api.c")).read())}
DECODED_RESP = DECODED_REQ | {int(k) for k in re.findall(
    r'\[(\d+)\] = API_R\(', open(os.path.join(HERE, "../../l7/kafka_api.c")).read())}
# client libraries' names for API keys that differ from ours
ALIASES = {"apiversion": "apiversions", "listoffsets": "offsets", "offset": "offsets",
           "groupcoordinator": "findcoordinator"}


def our_events(flowctl, pcap):
    out = subprocess.run([flowctl, "replay", pcap], check=True, capture_output=True,
                         text=True).stdout
    evs = []
    for line in out.splitlines():
        f = json.loads(line)["flow"]
        k = f.get("l7", {}).get("kafka")
        if k is None:
            continue
        tcp = f["l4"]["TCP"]
        req = f["l7"]["type"] == "REQUEST"
        client = (f["IP"]["source"], tcp["source_port"]) if req else \
            (f["IP"]["destination"], tcp["destination_port"])
        server = (f["IP"]["destination"], tcp["destination_port"]) if req else \
            (f["IP"]["source"], tcp["source_port"])
        evs.append({"req": req, "conn": (client, server), "key": k.get("api_key", ""),
                    "ver": k.get("api_version", 0), "corr": k.get("correlation_id", 0),
                    "topics": set(t for t in k.get("topic", "").split(",") if t),
                    "error": k.get("error_code", 0)})
    return evs


def tshark_pdus(pcap, ports):
    """Per connection (client, server): the Kafka PDUs in order."""
    args = ["tshark", "-r", pcap, "-T", "pdml", "-o", "tcp.desegment_tcp_streams:TRUE"]
    for p in ports:
        args += ["-d", "tcp.port==%d,kafka" % p]
    xml = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    conns = collections.defaultdict(list)
    for pkt in ET.fromstring(xml).iter("packet"):
        ip = {f.get("name"): f.get("show") for f in pkt.iter("field")
              if f.get("name") in ("ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
                                   "tcp.srcport", "tcp.dstport")}
        src = (ip.get("ip.src") or ip.get("ipv6.src"), int(ip["tcp.srcport"]))
        dst = (ip.get("ip.dst") or ip.get("ipv6.dst"), int(ip["tcp.dstport"]))
        for proto in pkt.iter("proto"):
            if proto.get("name") != "kafka":
                continue
            fields = collections.defaultdict(list)
            for f in proto.iter("field"):
                fields[f.get("name")].append(f.get("show"))
            if "kafka.correlation_id" not in fields:
                continue
            req = "kafka.request_key" in fields
            conn = (src, dst) if req else (dst, src)
            conns[conn].append({
                "req": req,
                "key": int(fields["kafka.request_key"][0]) if req else
                int(fields.get("kafka.response_key", ["-1"])[0]),
                "ver": int((fields.get("kafka.request.version") or
                            fields.get("kafka.response.version") or ["-1"])[0]),
                "corr": int(fields["kafka.correlation_id"][0]),
                "topics": set(fields.get("kafka.topic_name", [])),
                "errors": [int(e) for e in fields.get("kafka.error", [])],
                "malformed": "_ws.malformed" in [p.get("name") for p in proto.iter("proto")],
            })
    return conns


def name_of(key):
    return NAMES.get(key, str(key))


def check_tshark(pcap, evs):
    ports = sorted({e["conn"][1][1] for e in evs})
    pdus = tshark_pdus(pcap, ports)
    ours = collections.defaultdict(list)
    for e in evs:
        ours[e["conn"]].append(e)
    base = os.path.basename(pcap)
    n_req = n_resp = 0
    for conn in sorted(set(ours) | set(pdus)):
        o, t = ours.get(conn, []), pdus.get(conn, [])
        label = "%s %s:%d" % (base, conn[0][0], conn[0][1])
        oreq = [e for e in o if e["req"]]
        treq = [p for p in t if p["req"]]
        result([(e["key"], e["ver"], e["corr"]) for e in oreq] ==
               [(name_of(p["key"]), p["ver"], p["corr"]) for p in treq],
               "%s: requests (api_key, api_version, correlation_id) as tshark" % label,
               "ours %s tshark %s" % ([(e["key"], e["ver"], e["corr"]) for e in oreq],
                                      [(name_of(p["key"]), p["ver"], p["corr"]) for p in treq]))
        n_req += len(oreq)
        bad = []
        for e, p in zip(oreq, treq):
            decoded = p["key"] in DECODED_REQ
            if p["malformed"]:
                # tshark gave up inside the message (4.0 cannot read some
                # message sets): what it did read must be ours too
                NOTES["tshark malformed"] += 1
                if not (p["topics"] - {""}) <= e["topics"]:
                    bad.append((e["corr"], sorted(e["topics"]), sorted(p["topics"])))
            elif (decoded or e["topics"]) and e["topics"] != p["topics"]:
                bad.append((e["corr"], sorted(e["topics"]), sorted(p["topics"])))
        result(not bad, "%s: request topics as tshark" % label, str(bad))
        # responses: ours are matched by correlation id; tshark's in wire order
        oresp = [e for e in o if not e["req"]]
        tresp = [p for p in t if not p["req"]]
        result([e["corr"] for e in oresp] == [p["corr"] for p in tresp],
               "%s: responses (correlation_id) as tshark" % label,
               "ours %s tshark %s" % ([e["corr"] for e in oresp], [p["corr"] for p in tresp]))
        n_resp += len(oresp)
        bad = []
        for e, p in zip(oresp, tresp):
            nz = [x for x in p["errors"] if x]
            key = next((q["key"] for q in treq if q["corr"] == e["corr"]), -1)
            if p["key"] < 0:
                continue        # tshark could not pair it with its request
            if key not in DECODED_RESP:
                ok = e["error"] == 0
            elif p["malformed"]:
                ok = e["error"] in (nz[:1] or [0])   # tshark read past the first field
            else:
                ok = (e["error"] in nz) if nz else e["error"] == 0
            if not ok:
                bad.append((e["corr"], e["error"], p["errors"]))
        result(not bad, "%s: response error codes consistent with tshark" % label, str(bad))
    return n_req, n_resp


def check_clients(clientlog, evs, base):
    want = collections.Counter()
    for line in open(clientlog):
        m = re.match(r"(\S+) (sent|recv) (\w+) v(\d+) corr (\d+)$", line.strip())
        if not m:
            continue
        name = m.group(3).lower()
        want[(m.group(1), m.group(2), ALIASES.get(name, name), int(m.group(4)),
              int(m.group(5)))] += 1
    got = collections.Counter()
    for e in evs:
        server = "%s:%d" % e["conn"][1]
        got[(server, "sent" if e["req"] else "recv", e["key"], e["ver"], e["corr"])] += 1
    missing, extra = want - got, got - want
    # a response on the wire after the client closed its side: the client
    # never read it, but it was sent (and tshark saw it too)
    for k in list(extra):
        if k[1] == "recv" and want[(k[0], "sent") + k[2:]] >= got[k]:
            NOTES["responses the client did not read"] += extra.pop(k)
    result(not missing and not extra,
           "%s: every request sent and response received by the clients, once" % base,
           "missing %s extra %s" % (sorted(missing.items())[:5], sorted(extra.items())[:5]))
    sent = sum(v for k, v in want.items() if k[1] == "sent")
    recv = sum(v for k, v in want.items() if k[1] == "recv")
    return sent, recv


def main():
    flowctl, pcap = sys.argv[1], sys.argv[2]
    evs = our_events(flowctl, pcap)
    base = os.path.basename(pcap)
    n_req, n_resp = check_tshark(pcap, evs)
    line = "%s: %d requests, %d responses" % (base, n_req, n_resp)
    if len(sys.argv) > 3:
        sent, recv = check_clients(sys.argv[3], evs, base)
        line += "; clients: %d sent, %d received" % (sent, recv)
    if NOTES:
        line += " (%s)" % ", ".join("%s: %d" % kv for kv in sorted(NOTES.items()))
    print("# " + line)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
