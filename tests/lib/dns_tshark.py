#!/usr/bin/python3
"""The DNS messages tshark decodes in a capture (it reassembles IP
fragments by default) against the DNS events of `flowctl replay -o json`,
message for message: time (the frame that completed the message, to the
microsecond), addresses, ports, query or response, name, query type, rcode
and the answer's record types.

  dns_tshark.py NAME CAPTURE REPLAY.json [--filter TSHARK-DISPLAY-FILTER]

--filter: which of tshark's DNS messages count (default: all), e.g. to
leave out what tshark decodes and we rightly do not (an answer from a
fragment the capture cut, a datagram with conflicting overlaps).
Prints PASS:/FAIL: lines; exit status 1 on a difference.
"""
import argparse
import json
import subprocess
import sys
from datetime import datetime

TYPES = {1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA",
         33: "SRV", 65: "HTTPS"}
OPT = 41   # EDNS pseudo-record (additional section): not an answer type


def tshark_msgs(cap, flt):
    fields = ["frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "udp.srcport",
              "udp.dstport", "dns.flags.response", "dns.qry.name", "dns.qry.type",
              "dns.flags.rcode", "dns.resp.type"]
    cmd = ["tshark", "-n", "-r", cap, "-Y", f"dns && ({flt})" if flt else "dns", "-T", "fields",
           "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    out = []
    for line in res.stdout.splitlines():
        t, s4, s6, d4, d6, sp, dp, resp, name, qt, rcode, rt = line.split("|")
        rtypes = sorted({TYPES.get(int(x), x) for x in rt.split(",") if x and int(x) != OPT})
        out.append((round(float(t) * 1e6), s4 or s6, d4 or d6, int(sp), int(dp), resp == "1",
                    name, TYPES.get(int(qt), qt), int(rcode) if resp == "1" else 0,
                    tuple(rtypes) if resp == "1" else ()))
    return out


def replay_msgs(path):
    out = []
    for line in open(path):
        f = json.loads(line).get("flow", {})
        dns = f.get("l7", {}).get("dns")
        if f.get("Type") != "L7" or dns is None:
            continue
        t = datetime.fromisoformat(f["time"].replace("Z", "+00:00"))
        udp = f["l4"].get("UDP")
        if udp is None:
            continue   # DNS over TCP: not what this compares
        resp = f["l7"]["type"] == "RESPONSE"
        us = int(t.timestamp()) * 1000000 + t.microsecond
        out.append((us, f["IP"]["source"], f["IP"]["destination"], udp["source_port"],
                    udp["destination_port"], resp, dns.get("query", "").rstrip("."),
                    (dns.get("qtypes") or [""])[0], dns.get("rcode", 0) if resp else 0,
                    tuple(sorted(set(dns.get("rrtypes") or []))) if resp else ()))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("capture")
    ap.add_argument("replay")
    ap.add_argument("--filter", default="")
    a = ap.parse_args()
    want = tshark_msgs(a.capture, a.filter)
    got = replay_msgs(a.replay)
    ok = sorted(want) == sorted(got)
    print(("PASS: " if ok else "FAIL: ") +
          f"{a.name}: the {len(want)} DNS messages tshark decodes = replay's ({len(got)})")
    if not ok:
        for m in sorted(set(want) - set(got)):
            print(f"  only tshark: {m}")
        for m in sorted(set(got) - set(want)):
            print(f"  only replay: {m}")
        sys.exit(1)


if __name__ == "__main__":
    main()
