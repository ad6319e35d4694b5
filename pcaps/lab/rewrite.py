#!/usr/bin/python3
"""Derive test captures from real ones: remove or reorder chosen TCP
segments (capture loss and reordering the kernel here cannot produce: it has
no netem), or re-encapsulate frames in another link type.

Segments are chosen by content, not by frame number, so the script keeps
working when the base capture is re-made:

  rewrite.py drop IN OUT --after MARKER --side server --nth 2
      drop the 2nd server data segment that follows the client segment
      containing MARKER (same TCP connection)
  rewrite.py drop IN OUT --match MARKER [--side client]
      drop the first data segment whose payload contains MARKER
  rewrite.py swap IN OUT --after MARKER --side server --nth 1
      exchange that segment with the next data segment of the same side
      (timestamps stay in file order)
  rewrite.py linktype IN OUT raw|null|loop
      Ethernet -> raw IP (LINKTYPE_RAW) or BSD loopback (NULL: host-order
      family, LOOP: network order; IPv6 uses 30 as on macOS)

Frames are copied byte for byte with their original timestamps.
"""
import argparse
import struct
import sys

from scapy.all import IP, IPv6, TCP, Ether  # noqa: E402  (Debian python3-scapy)

LINKTYPE = {"ethernet": 1, "raw": 101, "null": 0, "loop": 108}


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xA1B2C3D4:
        endian, nano = "<", False
    elif magic == 0xD4C3B2A1:
        endian, nano = ">", False
    elif magic == 0xA1B23C4D:
        endian, nano = "<", True
    elif magic == 0x4D3CB2A1:
        endian, nano = ">", True
    else:
        sys.exit(f"{path}: not a pcap file (pcapng: convert with editcap -F pcap)")
    _, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
    frames = []
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append([sec, frac, wirelen, data[off + 16:off + 16 + caplen]])
        off += 16 + caplen
    return {"endian": endian, "nano": nano, "snaplen": snaplen, "linktype": linktype,
            "frames": frames}


def write_pcap(path, cap, linktype=None, frames=None):
    e = cap["endian"]
    magic = 0xA1B23C4D if cap["nano"] else 0xA1B2C3D4
    lt = cap["linktype"] if linktype is None else linktype
    with open(path, "wb") as f:
        f.write(struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, cap["snaplen"], lt))
        for sec, frac, wirelen, b in (cap["frames"] if frames is None else frames):
            f.write(struct.pack(e + "IIII", sec, frac, len(b), wirelen) + b)


def segments(cap):
    """(index, conn, from_client, payload) for every TCP frame with data.
    conn is the unordered 4-tuple; the client is the side that sent the SYN
    (or, without one, the side not using port 80/8080)."""
    out = []
    clients = {}
    for i, (_, _, _, b) in enumerate(cap["frames"]):
        p = Ether(b)
        ip = p.getlayer(IP) or p.getlayer(IPv6)
        if ip is None or not p.haslayer(TCP):
            continue
        t = p[TCP]
        a, z = (ip.src, t.sport), (ip.dst, t.dport)
        conn = tuple(sorted([a, z]))
        if t.flags & 0x02 and not t.flags & 0x10:
            clients[conn] = a
        client = clients.get(conn, z if t.sport in (80, 8080) else a)
        payload = bytes(t.payload)
        if payload:
            out.append((i, conn, a == client, payload))
    return out


def pick(cap, args):
    segs = segments(cap)
    want_client = args.side == "client"
    if args.after:
        marker = args.after.encode()
        start = next((k for k, s in enumerate(segs) if s[2] and marker in s[3]), None)
        if start is None:
            sys.exit(f"no client segment contains {args.after!r}")
        conn = segs[start][1]
        cands = [s for s in segs[start + 1:] if s[1] == conn and s[2] == want_client]
        if len(cands) < args.nth + (1 if args.cmd == "swap" else 0):
            sys.exit("not enough segments after the marker")
        return cands[args.nth - 1:args.nth + 1]
    marker = args.match.encode()
    k = next((k for k, s in enumerate(segs)
              if marker in s[3] and (args.side is None or s[2] == want_client)), None)
    if k is None:
        sys.exit(f"no segment contains {args.match!r}")
    first = segs[k]
    nxt = [s for s in segs[k + 1:] if s[1] == first[1] and s[2] == first[2]]
    if args.cmd == "swap" and not nxt:
        sys.exit("no later segment on that side to swap with")
    return [first] + nxt[:1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["drop", "swap", "linktype"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("kind", nargs="?", choices=["raw", "null", "loop"])
    ap.add_argument("--after")
    ap.add_argument("--match")
    ap.add_argument("--side", choices=["client", "server"])
    ap.add_argument("--nth", type=int, default=1)
    args = ap.parse_args()
    cap = read_pcap(args.input)
    if cap["linktype"] != 1:
        sys.exit("input must be an Ethernet capture")

    if args.cmd == "linktype":
        frames = []
        for sec, frac, wirelen, b in cap["frames"]:
            et = struct.unpack(">H", b[12:14])[0]
            ip = b[14:]
            v6 = et == 0x86DD
            if args.kind == "raw":
                hdr = b""
            elif args.kind == "null":
                hdr = struct.pack("<I", 30 if v6 else 2)
            else:
                hdr = struct.pack(">I", 30 if v6 else 2)
            frames.append([sec, frac, wirelen - 14 + len(hdr), hdr + ip])
        write_pcap(args.output, cap, LINKTYPE[args.kind], frames)
        return

    if (args.after is None) == (args.match is None):
        sys.exit("give exactly one of --after and --match")
    if args.after and not args.side:
        sys.exit("--after needs --side")
    chosen = pick(cap, args)
    frames = [list(f) for f in cap["frames"]]
    if args.cmd == "drop":
        i = chosen[0][0]
        print(f"dropping frame {i + 1} ({len(chosen[0][3])} payload bytes)", file=sys.stderr)
        del frames[i]
    else:
        i, j = chosen[0][0], chosen[1][0]
        print(f"swapping frames {i + 1} and {j + 1}", file=sys.stderr)
        # contents change places, timestamps stay in file order
        frames[i][2:], frames[j][2:] = frames[j][2:], frames[i][2:]
    write_pcap(args.output, cap, None, frames)


if __name__ == "__main__":
    main()
