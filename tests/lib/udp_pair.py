#!/usr/bin/python3
"""Bounded UDP traffic for namespace tests and the demo.

  udp_pair.py server ADDR PORT COUNT TIMEOUT   echo up to COUNT datagrams, then exit
                                               (also after TIMEOUT s of silence)
  udp_pair.py client ADDR PORT COUNT SIZE INTERVAL [SPORT]
                                               send COUNT datagrams of SIZE bytes,
                                               one every INTERVAL s, read the echoes
  udp_pair.py spray ADDR PORT FLOWS          one datagram from each of FLOWS sockets
                                               (FLOWS distinct source ports), no reply
Prints how many datagrams it sent/echoed; exits 0.
"""
import socket
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(addr, port, count, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(timeout)
    n = 0
    while n < count:
        try:
            data, peer = s.recvfrom(65535)
        except socket.timeout:
            break
        s.sendto(data, peer)
        n += 1
    print(f"echoed {n}")


def client(addr, port, count, size, interval, sport=0):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind(("::" if ":" in addr else "0.0.0.0", sport))
    s.settimeout(1.0)
    got = 0
    for i in range(count):
        s.sendto(bytes([65 + i % 26]) * size, (addr, port))
        try:
            s.recvfrom(65535)
            got += 1
        except socket.timeout:
            pass
        if interval:
            time.sleep(interval)
    print(f"sent {count} got {got}")


def spray(addr, port, flows):
    socks = []
    for _ in range(flows):
        s = socket.socket(family(addr), socket.SOCK_DGRAM)
        s.sendto(b"x" * 32, (addr, port))
        socks.append(s)
    print(f"sent {flows}")


if __name__ == "__main__":
    a = sys.argv
    if len(a) >= 6 and a[1] == "server":
        server(a[2], int(a[3]), int(a[4]), float(a[5]))
    elif len(a) >= 7 and a[1] == "client":
        client(a[2], int(a[3]), int(a[4]), int(a[5]), float(a[6]), int(a[7]) if len(a) > 7 else 0)
    elif len(a) >= 5 and a[1] == "spray":
        spray(a[2], int(a[3]), int(a[4]))
    else:
        sys.exit(__doc__)
