#!/usr/bin/python3
"""Seeds for fuzz_pipeline from real captures (pcaps/): each frame becomes
[2-byte length][flags: bit 0 raw IP, bits 1-7 time step][bytes], at most 60
frames per seed. Run from the repo root; writes tests/fuzz/corpus/fuzz_pipeline/."""
import os
import struct

CAPS = ["http/keepalive.pcap", "http/pipelining.pcap", "http/ipv6.pcap", "http/gap-body.pcap",
        "http/reorder.pcap", "dns/udp.pcap", "dns/tcp.pcap", "dns/truncated-retry.pcap",
        "dns/then-http.pcap", "link/raw.pcap", "kafka/kcat.pcap",
        "dns/frag.pcap", "dns/frag-reverse.pcap", "dns/frag-overlap.pcap"]
OUT = "tests/fuzz/corpus/fuzz_pipeline"


def frames(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(e + "IIII", data[off:off + 16])
        yield linktype, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


os.makedirs(OUT, exist_ok=True)
for cap in CAPS:
    seed = b""
    for k, (lt, b) in enumerate(frames(os.path.join("pcaps", cap))):
        if k == 60:
            break
        raw = 1 if lt == 101 else 0
        seed += struct.pack(">HB", len(b), raw | (1 << 1)) + b
    name = cap.replace("/", "-").replace(".pcap", "")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(seed)
    print(f"{OUT}/{name}: {len(seed)} bytes")
