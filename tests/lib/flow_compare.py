#!/usr/bin/python3
"""Compare flowd's events with tcpdump's view of the same interface.

  flow_compare.py NAME EVENTS PCAP --server ADDR[,ADDR] [--expect CLASS=N,...]

EVENTS: flowd's NDJSON; PCAP: tcpdump of the interface flowd observed.
Per directional 5-tuple (ICMP: type/code in place of ports), the packets
and bytes of flowd's `end` events (summed, if a flow ended and restarted)
must equal what tshark counts in the capture. Only test traffic is
compared: addresses in 198.18.0.0/15 or 2001:db8::/32, and no ICMPv6
neighbour discovery/MLD (the kernel sends those at any time, also while
one observer is stopped and the other not).

Also checked, per flow: every `start` has one `end`; traffic_direction is
EGRESS when the source is a --server address (flowd runs on the server's
interface) and INGRESS otherwise; is_reply is true exactly for flows from
the server; update events never exceed the end's counts. --expect CLASS=N
(classes tcp4 tcp6 udp4 udp6 icmp4 icmp6) checks the number of
directional flows per class.

Prints PASS:/FAIL: lines; exit status 1 if any failed.
"""
import argparse
import ipaddress
import json
import subprocess
import sys
from collections import defaultdict

TEST_NETS = [ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32")]
ICMP6_ND_MLD = set(range(130, 138)) | {143}
PROTO = {"TCP": 6, "UDP": 17, "SCTP": 132, "ICMPv4": 1, "ICMPv6": 58}
failures = 0


def fail(msg):
    global failures
    failures += 1
    print(f"FAIL: {msg}")


def in_test_nets(a):
    ip = ipaddress.ip_address(a)
    return any(ip in n for n in TEST_NETS)


def wanted(key):
    proto, src, _, dst, b = key
    if not (in_test_nets(src) and in_test_nets(dst)):
        return False
    return not (proto == 58 and key[2] in ICMP6_ND_MLD)


def cls(key):
    proto, src = key[0], key[1]
    fam = "6" if ":" in src else "4"
    name = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmp"}.get(proto, f"p{proto}")
    return name + fam


def fmt(key):
    proto, src, a, dst, b = key
    if proto in (1, 58):
        return f"{cls(key)} {src} -> {dst} type {a} code {b}"
    return f"{cls(key)} {src}:{a} -> {dst}:{b}"


def flowd_flows(path, name):
    ends = defaultdict(lambda: [0, 0])
    starts = defaultdict(int)
    n_ends = defaultdict(int)
    info = {}
    updates = defaultdict(list)
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
                if "lost_events" in rec:
                    continue  # live L7 capture losses: not about L3/L4 counts
                flow = rec["flow"]
            except (ValueError, KeyError) as e:
                fail(f"{name}: events line {lineno} is not a flow: {e}")
                continue
            if flow.get("Type") == "L7":
                continue  # live L7 events (flowd/payload.c)
            ip = flow.get("IP", {})
            l4 = flow.get("l4", {})
            if len(l4) != 1:
                continue
            (kind, v), = l4.items()
            if kind in ("ICMPv4", "ICMPv6"):
                key = (PROTO[kind], ip["source"], v.get("type", 0), ip["destination"], v.get("code", 0))
            else:
                key = (PROTO[kind], ip["source"], v["source_port"], ip["destination"], v["destination_port"])
            if not wanted(key):
                continue
            st = flow["flow_stats"]
            if st["event"] == "start":
                starts[key] += 1
            elif st["event"] == "end":
                ends[key][0] += st["packets"]
                ends[key][1] += st["bytes"]
                n_ends[key] += 1
                info[key] = flow
            elif st["event"] == "update":
                updates[key].append((st["packets"], st["bytes"]))
    for key in set(starts) | set(n_ends):
        if starts[key] != n_ends[key]:
            fail(f"{name}: {fmt(key)}: {starts[key]} start events but {n_ends[key]} end events")
    for key, ups in updates.items():
        if n_ends.get(key) == 1 and any(p > ends[key][0] or b > ends[key][1] for p, b in ups):
            fail(f"{name}: {fmt(key)}: an update event exceeds the end event")
    return {k: tuple(v) for k, v in ends.items()}, info, updates


def pcap_flows(path):
    fields = ["frame.len", "ip.src", "ip.dst", "ip.proto", "ipv6.src", "ipv6.dst",
              "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport",
              "sctp.srcport", "sctp.dstport", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code"]
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    flows = defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        v = dict(zip(fields, line.split("\t")))
        if v["ip.src"]:
            src, dst, proto = v["ip.src"], v["ip.dst"], int(v["ip.proto"])
        elif v["ipv6.src"]:
            src, dst = v["ipv6.src"], v["ipv6.dst"]
            proto = 58 if v["icmpv6.type"] else 6 if v["tcp.srcport"] else 17 if v["udp.srcport"] \
                else 132 if v["sctp.srcport"] else -1
        else:
            continue
        if proto == 6:
            key = (6, src, int(v["tcp.srcport"]), dst, int(v["tcp.dstport"]))
        elif proto == 17:
            key = (17, src, int(v["udp.srcport"]), dst, int(v["udp.dstport"]))
        elif proto == 132:
            key = (132, src, int(v["sctp.srcport"]), dst, int(v["sctp.dstport"]))
        elif proto == 1:
            key = (1, src, int(v["icmp.type"]), dst, int(v["icmp.code"] or 0))
        elif proto == 58:
            key = (58, src, int(v["icmpv6.type"]), dst, int(v["icmpv6.code"] or 0))
        else:
            continue
        if not wanted(key):
            continue
        flows[key][0] += 1
        flows[key][1] += int(v["frame.len"])
    return {k: tuple(v) for k, v in flows.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("events")
    ap.add_argument("pcap")
    ap.add_argument("--server", required=True)
    ap.add_argument("--expect", default="")
    a = ap.parse_args()
    servers = set(a.server.split(","))

    got, info, _ = flowd_flows(a.events, a.name)
    want = pcap_flows(a.pcap)
    for key in sorted(set(got) | set(want), key=str):
        g, w = got.get(key), want.get(key)
        if g != w:
            fail(f"{a.name}: {fmt(key)}: flowd {g or 'no flow'} (packets, bytes), tcpdump {w or 'no packets'}")
    for key, flow in info.items():
        from_server = key[1] in servers
        want_dir = "EGRESS" if from_server else "INGRESS"
        if flow.get("traffic_direction") != want_dir:
            fail(f"{a.name}: {fmt(key)}: traffic_direction {flow.get('traffic_direction')}, want {want_dir}")
        if flow.get("is_reply") != from_server:
            fail(f"{a.name}: {fmt(key)}: is_reply {flow.get('is_reply')}, want {from_server}")
    counts = defaultdict(int)
    for key in got:
        counts[cls(key)] += 1
    for item in filter(None, a.expect.split(",")):
        c, n = item.split("=")
        if counts[c] != int(n):
            fail(f"{a.name}: {counts[c]} {c} flows, want {n}")
    if not got:
        fail(f"{a.name}: no flows")
    if failures == 0:
        pk = sum(v[0] for v in got.values())
        by = sum(v[1] for v in got.values())
        summary = " ".join(f"{c}={counts[c]}" for c in sorted(counts))
        print(f"PASS: {a.name}: {len(got)} directional flows ({summary}), {pk} packets, {by} bytes: "
              f"equal to tcpdump per 5-tuple; directions, is_reply, start/end pairs right")
    sys.exit(1 if failures else 0)


main()
