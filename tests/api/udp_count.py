#!/usr/bin/python3
"""udp_count.py send DST PORT RATE SECONDS | recv BIND PORT IDLE_S

send: RATE datagrams per second to DST:PORT, each carrying its sequence number, until SIGTERM
      or SIGINT, or at most SECONDS (a bound against a forgotten sender); prints "sent N".
recv: counts datagrams on BIND:PORT until none came for IDLE_S seconds (after the first);
      prints "received N distinct D missing M" (missing: sequence numbers below the highest
      seen that never arrived). Both are bounded in time."""
import signal
import socket
import struct
import sys
import time

mode = sys.argv[1]
if mode == "send":
    dst, port, rate, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    n = 0
    t0 = time.monotonic()
    while not stop:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        while n < now * rate:
            s.sendto(struct.pack("!Q", n) + b"x" * 56, (dst, port))
            n += 1
        time.sleep(0.001)
    print(f"sent {n}", flush=True)
else:
    bind, port, idle = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((bind, port))
    s.settimeout(60)  # bounded wait for the first datagram
    seen = set()
    total = 0
    try:
        while True:
            data, _ = s.recvfrom(2048)
            total += 1
            seen.add(struct.unpack("!Q", data[:8])[0])
            s.settimeout(idle)
    except socket.timeout:
        pass
    top = max(seen) + 1 if seen else 0
    print(f"received {total} distinct {len(seen)} missing {top - len(seen)}", flush=True)
