#!/usr/bin/env python3
"""UDP peer for the uplink tests (the Linux side of a guest's udp-send /
udp-recv). Datagrams carry a 32-bit little-endian sequence number first, as
the guest's apps do.
  uplink_udp.py recv IP PORT COUNT TIMEOUT_S   prints "ready", then
      "RESULT app=linux-udp-recv pkts= ooo= first= last="
  uplink_udp.py send IP PORT COUNT RATE LEN    sends COUNT datagrams of LEN
      bytes at RATE/s, prints "RESULT app=linux-udp-send pkts="
"""
import socket
import struct
import sys
import time


def recv(ip, port, count, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((ip, port))
    print("ready", flush=True)
    end = time.monotonic() + timeout
    pkts = ooo = 0
    first = last = expect = -1
    while pkts < count:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(min(left, 3.0) if pkts else left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            if pkts:
                break
            continue
        if len(d) < 4:
            continue
        seq = struct.unpack("<I", d[:4])[0]
        if first < 0:
            first = seq
        elif seq != expect:
            ooo += 1
        expect = seq + 1
        last = seq
        pkts += 1
    print(f"RESULT app=linux-udp-recv pkts={pkts} ooo={ooo} first={first} last={last}", flush=True)


def send(ip, port, count, rate, length):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    pad = b"\0" * max(0, length - 4)
    t0 = time.monotonic()
    for i in range(count):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        s.sendto(struct.pack("<I", i) + pad, (ip, port))
    print(f"RESULT app=linux-udp-send pkts={count}", flush=True)


if __name__ == "__main__":
    a = sys.argv
    if a[1] == "recv":
        recv(a[2], int(a[3]), int(a[4]), float(a[5]))
    else:
        send(a[2], int(a[3]), int(a[4]), float(a[5]), int(a[6]))
