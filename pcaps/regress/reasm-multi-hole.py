#!/usr/bin/python3
"""reasm-multi-hole.pcap: regression capture for a fuzz_reasm finding. A
segment that spans several holes of held out-of-order data was stored as
several pieces, each with its own header, and the pieces together exceeded
the buffer bound that had been checked for the segment as a whole.

An HTTP POST of 1000 body bytes arrives as 10 segments of 100 bytes in the
order 0 2 4 6 8, then one retransmission covering all of it, then 1 3 5 7 9;
replayed with --max-conn-buffer 400 the held data must stay within 400 bytes
(memory.buffered_bytes_peak in the pinned --stats) and every byte must be
accounted for once (delivered or gap)."""
import os
from scapy.all import Ether, IP, TCP, Raw, wrpcap

C, S, CP, SP = "198.18.0.1", "198.18.0.2", 40000, 80
eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
rev = Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
hdr = b"POST /upload HTTP/1.1\r\nHost: web.test\r\nContent-Length: 1000\r\n\r\n"
body = bytes((i * 7) % 26 + 97 for i in range(1000))
isn_c, isn_s = 1000, 5000
t = [1700000000.0]


def at():
    t[0] += 0.001
    return t[0]


pkts = []


def add(p):
    p.time = at()
    pkts.append(p)


add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="S", seq=isn_c))
add(rev / IP(src=S, dst=C) / TCP(sport=SP, dport=CP, flags="SA", seq=isn_s, ack=isn_c + 1))
add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="A", seq=isn_c + 1, ack=isn_s + 1))
add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="PA", seq=isn_c + 1, ack=isn_s + 1) / Raw(hdr))
base = isn_c + 1 + len(hdr)
order = [0, 2, 4, 6, 8, "all", 1, 3, 5, 7, 9]
for k in order:
    if k == "all":
        seq, data = base, body
    else:
        seq, data = base + 100 * k, body[100 * k:100 * (k + 1)]
    add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="PA", seq=seq, ack=isn_s + 1) / Raw(data))
end_c = base + len(body)
resp = b"HTTP/1.1 201 Created\r\nContent-Length: 8\r\n\r\ncreated\n"
add(rev / IP(src=S, dst=C) / TCP(sport=SP, dport=CP, flags="PA", seq=isn_s + 1, ack=end_c) / Raw(resp))
add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="FA", seq=end_c, ack=isn_s + 1 + len(resp)))
add(rev / IP(src=S, dst=C) / TCP(sport=SP, dport=CP, flags="FA", seq=isn_s + 1 + len(resp), ack=end_c + 1))
add(eth / IP(src=C, dst=S) / TCP(sport=CP, dport=SP, flags="A", seq=end_c + 1, ack=isn_s + 2 + len(resp)))
wrpcap(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reasm-multi-hole.pcap"), pkts)
