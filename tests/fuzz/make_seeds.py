#!/usr/bin/python3
"""Turns test vectors (tests/unit/data/*/*.vec) into seed inputs for the L7
fuzz targets, in the input format of tests/fuzz/fuzz_l7.h.
   make_seeds.py FLAGS OUT_FILE VEC..."""
import sys

LENS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 20, 24, 32, 40, 48, 64,
        100, 128, 200, 256, 512, 1000, 1500, 4096, 65536]

def ops_for(direction, payload):
    out = bytearray()
    while payload:
        sel = max(i for i, n in enumerate(LENS) if n <= len(payload))
        n = LENS[sel]
        out.append(direction | (0 << 1) | (sel << 3))
        out += payload[:n]
        payload = payload[n:]
    return out

flags = int(sys.argv[1], 0)
data = bytearray([flags])
for vec in sys.argv[3:]:
    for line in open(vec):
        parts = line.split()
        if len(parts) == 3:
            data += ops_for(int(parts[0]), bytes.fromhex(parts[2]))
open(sys.argv[2], "wb").write(data)
