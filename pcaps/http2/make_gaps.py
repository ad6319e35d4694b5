#!/usr/bin/python3
"""bulk-gaps.pcap from bulk.pcap: capture loss in an HTTP/2 connection.

  make_gaps.py IN.pcap OUT.pcap [LOST]

On the busiest connection (server to client), three TCP segments are
removed, chosen from the HTTP/2 frames they carry (so that a new capture
of bulk.sh gives the same cases):
  inside   a segment wholly inside a DATA frame (a download loses bytes);
  across   a segment holding the header of a DATA frame of another stream
           than the frame before it, and bytes of both (both lose bytes;
           framing is lost until the next boundary is found);
  trailer  the segment holding the first trailer block (HEADERS with
           END_STREAM): it inserted "x-served-by" into the HPACK table,
           which every later trailer block refers to, and it ends streams.
The removed packets are listed on stdout. LOST (default OUT with .lost
for .pcap) gets, per stream that lost DATA bytes, "CLIENT_PORT STREAM_ID
BYTES": the body bytes removed (all of a DATA frame whose header was
removed: nothing tells whose its other bytes are), which the stream's
response event must report as l7_info.gap_bytes
(tests/l7/test_http2_pcaps.sh).
"""
import sys

from scapy.all import TCP, PcapReader, PcapWriter

SERVER_PORT = 8080


def frames(stream):
    off, out = 0, []
    while off + 9 <= len(stream):
        n = int.from_bytes(stream[off:off + 3], "big")
        out.append({"off": off, "len": n, "type": stream[off + 3], "flags": stream[off + 4],
                    "sid": int.from_bytes(stream[off + 5:off + 9], "big") & 0x7fffffff})
        off += 9 + n
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    pkts = list(PcapReader(src))
    # server-to-client segments per connection: (packet index, stream offset, length)
    conns = {}
    for i, p in enumerate(pkts):
        if TCP not in p or p[TCP].sport != SERVER_PORT:
            continue
        t = p[TCP]
        c = conns.setdefault(t.dport, {"isn": None, "segs": [], "bytes": bytearray()})
        if "S" in str(t.flags):
            c["isn"] = t.seq + 1
            continue
        pl = bytes(t.payload)
        if not pl or c["isn"] is None:
            continue
        off = (t.seq - c["isn"]) % 2**32
        if off != len(c["bytes"]):
            sys.exit("make_gaps: %s: connection %d is not contiguous at packet %d" % (src, t.dport, i + 1))
        c["segs"].append((i, off, len(pl)))
        c["bytes"] += pl
    port, c = max(conns.items(), key=lambda kv: len(kv[1]["bytes"]))
    fr = frames(c["bytes"])

    def seg_at(off):
        return next(s for s in c["segs"] if s[1] <= off < s[1] + s[2])

    trailer = next(f for f in fr if f["type"] == 1 and f["flags"] & 1)
    drop = {"trailer": seg_at(trailer["off"])}
    inside = next(s for s in c["segs"] if s[1] > 40000 and any(
        f["type"] == 0 and f["off"] + 9 <= s[1] and s[1] + s[2] <= f["off"] + 9 + f["len"] for f in fr))
    drop["inside"] = inside
    prev = None
    for f in fr:
        if f["type"] == 0 and prev and prev["type"] == 0 and prev["sid"] != f["sid"] and \
                f["off"] > inside[1] + 16384:
            s = seg_at(f["off"])
            if s[1] < f["off"] and f["off"] + 9 <= s[1] + s[2]:   # cuts both frames
                drop["across"] = s
                break
        prev = f
    if len(set(s[0] for s in drop.values())) != 3:
        sys.exit("make_gaps: %s: the three cases are not in three segments" % src)
    removed = set(s[0] for s in drop.values())
    # A DATA frame loses the bytes removed from its body, or all of it when
    # its header was removed (nothing tells whose the rest is).
    lost = {}
    for f in fr:
        if f["type"] != 0:
            continue
        pad = c["bytes"][f["off"] + 9] if f["flags"] & 0x8 else 0
        body_lo = f["off"] + 9 + (1 if f["flags"] & 0x8 else 0)
        body_hi = f["off"] + 9 + f["len"] - pad
        n = 0
        for s in drop.values():
            lo, hi = s[1], s[1] + s[2]
            if lo < f["off"] + 9 and f["off"] < hi:
                n = body_hi - body_lo
                break
            n += max(0, min(hi, body_hi) - max(lo, body_lo))
        if n > 0:
            lost[f["sid"]] = lost.get(f["sid"], 0) + n
    lost_path = sys.argv[3] if len(sys.argv) > 3 else dst[:-len(".pcap")] + ".lost"
    with open(lost_path, "w") as out:
        for sid in sorted(lost):
            out.write("%d %d %d\n" % (port, sid, lost[sid]))
    w = PcapWriter(dst, sync=True)
    for i, p in enumerate(pkts):
        if i not in removed:
            w.write(p)
    w.close()
    for name, s in sorted(drop.items(), key=lambda kv: kv[1][0]):
        print("%s: removed packet %d (connection %d, server bytes %d-%d)" % (name, s[0] + 1, port, s[1], s[1] + s[2]))


if __name__ == "__main__":
    main()
