#!/usr/bin/python3
"""Derive captures from dns/frag.pcap (fragmented DNS answers): what the
kernel here cannot be made to do on a veth (reordering, duplicates,
overlapping fragments) or a hole in the middle of a datagram.

  frag_rewrite.py reverse IN OUT [--which N,...]
      the fragments of each chosen datagram in reverse order
  frag_rewrite.py drop IN OUT [--which N,...]
      drop the second fragment of each chosen datagram (a hole)
  frag_rewrite.py dup IN OUT [--which N,...]
      the second fragment twice (an exact copy right after it)
  frag_rewrite.py overlap IN OUT [--which N,...]
      after the second fragment, a copy of it moved 8 bytes back: it
      overlaps the first fragment's tail with other bytes

Datagrams are the fragmented ones in file order, numbered from 1 (default:
all). Fragments are copied byte for byte; the frame slots (timestamps)
stay in file order, so reordering moves bytes, not times.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
from rewrite import read_pcap, write_pcap  # noqa: E402
from scapy.all import IP, IPv6, Ether, IPv6ExtHdrFragment  # noqa: E402


def frag_key(b):
    """(datagram key, offset) of an Ethernet frame that is a fragment, else None."""
    p = Ether(b)
    if IP in p and (p[IP].flags.MF or p[IP].frag):
        return (4, p[IP].src, p[IP].dst, p[IP].id, p[IP].proto), p[IP].frag * 8
    if IPv6ExtHdrFragment in p:
        f = p[IPv6ExtHdrFragment]
        return (6, p[IPv6].src, p[IPv6].dst, f.id, f.nh), f.offset * 8
    return None


def moved_back(b):
    """The fragment b with its offset 8 bytes lower (checksums redone)."""
    p = Ether(b)
    if IP in p:
        p[IP].frag -= 1
        del p[IP].chksum
    else:
        p[IPv6ExtHdrFragment].offset -= 1
    return bytes(p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("op", choices=["reverse", "drop", "dup", "overlap"])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--which", default="", help="datagram numbers, comma-separated (default: all)")
    a = ap.parse_args()
    cap = read_pcap(a.inp)
    frames = cap["frames"]
    order = []          # datagram keys in file order
    members = {}        # key -> frame indexes
    for i, fr in enumerate(frames):
        k = frag_key(fr[3])
        if k is None:
            continue
        if k[0] not in members:
            order.append(k[0])
            members[k[0]] = []
        members[k[0]].append(i)
    which = {int(x) for x in a.which.split(",") if x} or set(range(1, len(order) + 1))
    chosen = [members[k] for n, k in enumerate(order, 1) if n in which]
    if not chosen or any(len(m) < 2 for m in chosen):
        sys.exit(f"{a.inp}: no such fragmented datagrams ({len(order)} there)")
    data = [fr[3] for fr in frames]
    extra = {}          # frame index -> frames inserted after it
    drop = set()
    for m in chosen:
        if a.op == "reverse":
            for slot, src in zip(m, reversed(m)):
                data[slot] = frames[src][3]
        elif a.op == "drop":
            drop.add(m[1])
        elif a.op == "dup":
            extra[m[1]] = [frames[m[1]][3]]
        else:
            extra[m[1]] = [moved_back(frames[m[1]][3])]
    out = []
    for i, fr in enumerate(frames):
        if i in drop:
            continue
        out.append([fr[0], fr[1], len(data[i]) if data[i] is not frames[i][3] else fr[2], data[i]])
        for b in extra.get(i, []):
            out.append([fr[0], fr[1], len(b), b])
    write_pcap(a.out, cap, frames=out)
    print(f"{a.out}: {a.op} on datagrams {sorted(which)} of {len(order)}, {len(out)} frames")


if __name__ == "__main__":
    main()
