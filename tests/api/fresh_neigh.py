#!/usr/bin/python3
"""fresh_neigh.py send BASE PORT NEW_MS EACH_MS LIFE_MS SECONDS | recv BASE PORT

A train of fresh neighbours: UDP datagrams to a new destination address every NEW_MS ms, each
destination getting one datagram every EACH_MS ms for LIFE_MS ms, so several are in flight at
once and, whenever the router's neighbour resolution stalls, some destination's first datagrams
are waiting for it. Destination i is BASE (a.b.c.0) + 1 + i, skipping every .0 and .255. Clocks: CLOCK_MONOTONIC, shared by every namespace of the machine.

send: until SIGTERM or SIGINT, or at most SECONDS (a bound against a forgotten sender). Prints
      "started" once the first datagram is out, and at the end
      "sent N neighbours K" (K: destinations used; the first K of the sequence).
recv: on 0.0.0.0:PORT until SIGTERM (BASE as for send, to name the addresses). Prints
      "received N neighbours K resolve_ms_max X resolve_ms_median Y slowest I"
      where a destination's resolve time is from the sending of its first datagram to the
      arrival of the first one that got through (which is not the first sent if the router,
      holding a few per unresolved neighbour, dropped the oldest), then one line
      "neighbour I ADDR first_ms F received R sent_at T first_seq S" per destination, slowest
      first (T: when its first datagram left, CLOCK_MONOTONIC seconds; S: the sequence
      number of its first arrival)."""
import signal
import socket
import struct
import sys
import time

FMT = "!IIdd"  # destination index, sequence within it, its send time, its seq 0's send time


def addr(base, i):
    a, b, c = base.split(".")[:3]
    return f"{a}.{b}.{int(c) + i // 254}.{1 + i % 254}"


stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
signal.signal(signal.SIGINT, lambda *_: stop.append(1))

if sys.argv[1] == "send":
    base, port = sys.argv[2], int(sys.argv[3])
    new_s, each_s, life_s = (float(x) / 1000 for x in sys.argv[4:7])
    seconds = float(sys.argv[7])
    per = max(1, int(round(life_s / each_s)))  # datagrams per destination
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = 0
    nxt = []  # per destination: how many of its datagrams are out
    t_first = []  # per destination: when its first datagram left (CLOCK_MONOTONIC seconds)
    lo = 0  # destinations below lo have sent all theirs
    t0 = time.monotonic()
    while not stop:
        now = time.monotonic() - t0
        if now >= seconds:
            break
        while len(nxt) * new_s <= now:
            nxt.append(0)  # a new destination starts
            t_first.append(0.0)
        while lo < len(nxt) and nxt[lo] == per:
            lo += 1
        for i in range(lo, len(nxt)):
            start = i * new_s
            while nxt[i] < per and start + nxt[i] * each_s <= now:
                t = time.monotonic()
                if nxt[i] == 0:
                    t_first[i] = t
                s.sendto(struct.pack(FMT, i, nxt[i], t, t_first[i]) + b"x" * 36,
                         (addr(base, i), port))
                nxt[i] += 1
                n += 1
                if n == 1:
                    print("started", flush=True)
        time.sleep(0.001)
    print(f"sent {n} neighbours {len(nxt)}", flush=True)
else:
    base, port = sys.argv[2], int(sys.argv[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.1)
    first = {}  # index -> its first arrival less its first send, in ms
    sent0 = {}  # index -> send time of its first datagram
    seq0 = {}  # index -> sequence number of its first arrival
    got = {}
    total = 0
    while not stop:
        try:
            data = s.recv(2048)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        t = time.monotonic()
        i, seq, _, sent_first = struct.unpack(FMT, data[:struct.calcsize(FMT)])
        total += 1
        got[i] = got.get(i, 0) + 1
        if i not in first:
            first[i] = (t - sent_first) * 1000
            sent0[i] = sent_first
            seq0[i] = seq
    order = sorted(first, key=lambda i: -first[i])
    lat = sorted(first.values())
    mx = lat[-1] if lat else -1
    med = lat[len(lat) // 2] if lat else -1
    print(f"received {total} neighbours {len(got)} resolve_ms_max {mx:.1f} "
          f"resolve_ms_median {med:.1f} slowest {order[0] if order else -1}", flush=True)
    for i in order:
        print(f"neighbour {i} {addr(base, i)} first_ms {first[i]:.1f} received {got[i]} "
              f"sent_at {sent0[i]:.6f} first_seq {seq0[i]}")
