#!/usr/bin/env python3
"""Host side of the vm tests: raw Ethernet frames in and out of the test namespaces.

Interfaces are named NS:IF (a network namespace under /run/netns and an interface in it). One
process can hold packet sockets in several namespaces: it enters each with setns(2) to open the
socket, and a socket stays in the namespace it was created in.

Subcommands (each prints a summary and exits 0 only if everything it checks held):
  sweep    frames of every size MIN..MAX from A to B and from B to A, one at a time, each compared
           byte for byte with what was sent
  send     interleaved bursts of marked frames (tag, destination MAC, count, size) from A, counted
           and compared on arrival at B
  pktgen   receive ixy-pktgen frames (docs/tools.md) and check format and sequence numbers
  monitor  count the frames crossing some interfaces in each direction, by kind, until SIGTERM

Only the standard library is used, so any python3 will do.
"""

import argparse
import ctypes
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_TEST = 0x88B5  # IEEE 802 local experimental ethertype 1: nobody on the host answers it
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_RCVBUFFORCE = 33
CLONE_NEWNET = 0x40000000
TEST_MAGIC = b"IXYVMT"

_libc = ctypes.CDLL(None, use_errno=True)


class Netns:
    """Enter a named network namespace for the duration of a with-block."""

    def __init__(self, name):
        self.name = name
        self.home = None

    def __enter__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self._setns(f"/run/netns/{self.name}")
        return self

    def __exit__(self, *exc):
        if _libc.setns(self.home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back to the original namespace")
        os.close(self.home)

    @staticmethod
    def _setns(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns {path}: {os.strerror(err)}")
        finally:
            os.close(fd)


class Port:
    """A packet socket on one interface in one namespace."""

    def __init__(self, spec):
        self.spec = spec
        ns, self.ifname = spec.split(":", 1)
        with Netns(ns):
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
            self.sock.bind((self.ifname, ETH_P_ALL))
        self.mac = self.sock.getsockname()[4][:6]
        self.sock.setblocking(False)

    def send(self, frame):
        self.sock.send(frame)

    def recv(self, timeout_s):
        """One frame as (bytes, outgoing?), or None after timeout_s."""
        ready, _, _ = select.select([self.sock], [], [], timeout_s)
        if not ready:
            return None
        data, addr = self.sock.recvfrom(65535)
        return data, addr[2] == PACKET_OUTGOING

    def recv_incoming(self, timeout_s):
        """The next frame the host received on this interface, or None after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            got = self.recv(left)
            if got is None:
                return None
            if not got[1]:
                return got[0]

    def drops(self):
        """Frames the kernel dropped because this socket's buffer was full (resets the count)."""
        raw = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        return struct.unpack("II", raw)[1]


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def mac_text(raw):
    return ":".join(f"{b:02x}" for b in raw)


def test_frame(dst, src, tag, index, size, rng):
    """A frame of `size` bytes (no FCS) with ethertype ETH_P_TEST: magic, tag, index, random."""
    head = dst + src + struct.pack("!H", ETH_P_TEST) + TEST_MAGIC
    head += struct.pack("!8sII", tag.encode()[:8].ljust(8, b"\0"), index, size)
    assert len(head) <= size
    return head + rng.randbytes(size - len(head))


def parse_test_frame(frame):
    """(tag, index, size) of one of our test frames, or None for anything else."""
    if len(frame) < 36 or frame[12:14] != struct.pack("!H", ETH_P_TEST):
        return None
    if frame[14:20] != TEST_MAGIC:
        return None
    tag, index, size = struct.unpack("!8sII", frame[20:36])
    return tag.rstrip(b"\0").decode(errors="replace"), index, size


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"byte {i}: sent 0x{x:02x}, got 0x{y:02x}"
    return f"length: sent {len(a)}, got {len(b)}"


# --- sweep ----------------------------------------------------------------------------------

def cmd_sweep(args):
    rng = random.Random(args.seed)
    print(f"sweep: sizes {args.min}..{args.max}, seed {args.seed}")
    a, b = Port(args.a), Port(args.b)
    ok = True
    for tx, rx, name in ((a, b, "a->b"), (b, a, "b->a")):
        good = missing = corrupt = in_a_row = 0
        for size in range(args.min, args.max + 1):
            if in_a_row >= args.give_up:
                missing += 1  # the path is down: do not wait out every remaining size
                continue
            frame = test_frame(rx.mac, tx.mac, name, size, size, rng)
            tx.send(frame)
            deadline = time.monotonic() + args.timeout
            got = None
            while got is None and time.monotonic() < deadline:
                cand = rx.recv_incoming(deadline - time.monotonic())
                if cand is not None and parse_test_frame(cand) is not None:
                    parsed = parse_test_frame(cand)
                    if parsed[0] == name and parsed[1] == size:
                        got = cand
            in_a_row = in_a_row + 1 if got is None else 0
            if got is None:
                missing += 1
                if missing <= 5:
                    print(f"  {name}: frame of {size} bytes did not arrive")
                if in_a_row == args.give_up:
                    print(f"  {name}: {in_a_row} frames in a row lost, not sending the larger sizes")
            elif got != frame:
                corrupt += 1
                if corrupt <= 5:
                    print(f"  {name}: frame of {size} bytes differs, {first_difference(frame, got)}")
            else:
                good += 1
        total = args.max - args.min + 1
        print(f"sweep {name}: sizes={total} intact={good} missing={missing} corrupt={corrupt}")
        ok = ok and good == total
    return 0 if ok else 1


# --- send -----------------------------------------------------------------------------------

def cmd_send(args):
    rng = random.Random(args.seed)
    tx, rx = Port(args.src), Port(args.dst)
    bursts = []
    for spec in args.frames:
        tag, dst, count, size = spec.split(",")
        bursts.append((tag, mac_bytes(dst), int(count), size))
    sent_frames = {}
    order = []
    for tag, dst, count, size in bursts:
        for i in range(count):
            if size == "random":
                n = rng.randint(60, 1514)
            else:
                n = int(size)
            sent_frames[(tag, i)] = test_frame(dst, tx.mac, tag, i, n, rng)
            order.append((i, tag))
    order.sort()  # interleave the bursts: index 0 of every tag, then index 1, ...
    received = {tag: 0 for tag, _, _, _ in bursts}
    last_index = {tag: -1 for tag in received}
    corrupt = out_of_order = 0

    def drain(timeout_s):
        nonlocal corrupt, out_of_order
        while True:
            frame = rx.recv_incoming(timeout_s)
            if frame is None:
                return
            parsed = parse_test_frame(frame)
            if parsed is None:
                continue
            key = parsed[:2]
            if key not in sent_frames:
                continue
            if frame != sent_frames[key]:
                corrupt += 1
                print(f"  {key}: differs, {first_difference(sent_frames[key], frame)}")
            received[parsed[0]] += 1
            # Frames of one tag leave in index order; a forwarder must not reorder or repeat them.
            if parsed[1] <= last_index[parsed[0]]:
                out_of_order += 1
            last_index[parsed[0]] = parsed[1]

    for i, tag in order:
        try:
            tx.send(sent_frames[(tag, i)])
        except BlockingIOError:
            # Our own socket's queue is full: wait a moment and send once more (counted by the
            # interface either way: only what the host kernel accepted can reach the guest).
            time.sleep(0.001)
            tx.sock.setblocking(True)
            tx.send(sent_frames[(tag, i)])
            tx.sock.setblocking(False)
        if args.gap_ms > 0:
            time.sleep(args.gap_ms / 1000.0)
        drain(0)
    drain(args.wait)
    for tag, dst, count, size in bursts:
        print(f"send tag={tag} dst={mac_text(dst)} size={size} sent={count} received={received[tag]}")
    drops = rx.drops()
    print(f"send corrupt={corrupt} out_of_order={out_of_order} socket_drops={drops}")
    result = {tag: received[tag] for tag in received}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f)
    return 0 if corrupt == 0 and out_of_order == 0 and drops == 0 else 1


# --- pktgen ---------------------------------------------------------------------------------

def ipv4_checksum(header):
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def pktgen_format_error(frame, size, dst, src):
    """Why `frame` is not a frame ixy-pktgen should send, or None. docs/tools.md, ixy-pktgen."""
    if len(frame) != size:
        return f"length {len(frame)}, expected {size}"
    if frame[0:6] != dst:
        return f"dst {mac_text(frame[0:6])}, expected {mac_text(dst)}"
    if frame[6:12] != src:
        return f"src {mac_text(frame[6:12])}, expected {mac_text(src)}"
    if frame[12:14] != b"\x08\x00":
        return f"ethertype 0x{frame[12:14].hex()}"
    ip = frame[14:34]
    ver_ihl, _, total_len, _, _, ttl, proto, _, sip, dip = struct.unpack("!BBHHHBBH4s4s", ip)
    if ver_ihl != 0x45 or total_len != size - 14 or ttl != 64 or proto != 17:
        return f"IPv4 header {ip.hex()}: ver/ihl, total length {total_len}, ttl {ttl} or proto {proto}"
    if ipv4_checksum(ip) != 0:
        return f"IPv4 header checksum wrong in {ip.hex()}"
    if sip != bytes([10, 0, 0, 1]) or dip != bytes([10, 0, 0, 2]):
        return f"IPv4 addresses {socket.inet_ntoa(sip)} -> {socket.inet_ntoa(dip)}"
    sport, dport, ulen, csum = struct.unpack("!HHHH", frame[34:42])
    if (sport, dport, ulen, csum) != (42, 1234, size - 34, 0):
        return f"UDP header ports {sport}->{dport}, length {ulen}, checksum {csum}"
    payload = frame[42:]
    if payload[0:4] != b"IXYG":
        return f"payload starts {payload[0:4]!r}, expected b'IXYG'"
    if any(payload[12:]):
        return "payload after the sequence number is not zero"
    return None


def cmd_pktgen(args):
    port = Port(args.port)
    dst, src = mac_bytes(args.dst_mac), mac_bytes(args.src_mac)
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    with open(args.ready, "w") as f:
        f.write("ready\n")
    seqs = []
    bad = 0
    first_bad = None
    last_rx = time.monotonic()
    deadline = time.monotonic() + args.max_seconds
    while not stop and time.monotonic() < deadline:
        if time.monotonic() - last_rx > (args.idle if seqs else args.first_timeout):
            break
        if args.expect is not None and len(seqs) + bad >= args.expect:
            # Anything beyond the expected count would be an error too: look a little longer.
            frame = port.recv_incoming(0.5)
            if frame is None:
                break
        else:
            frame = port.recv_incoming(0.2)
            if frame is None:
                continue
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[42:46] != b"IXYG":
            continue  # not pktgen's
        last_rx = time.monotonic()
        err = pktgen_format_error(frame, args.size, dst, src)
        if err is not None:
            bad += 1
            first_bad = first_bad or err
            continue
        seqs.append(struct.unpack("!Q", frame[46:54])[0])
    drops = port.drops()
    expected = list(range(len(seqs)))
    out_of_order = sum(1 for i in range(1, len(seqs)) if seqs[i] <= seqs[i - 1])
    unique = set(seqs)
    missing = (max(seqs) + 1 - len(unique)) if seqs else 0
    summary = {
        "received": len(seqs),
        "bad_format": bad,
        "first_bad": first_bad,
        "first_seq": seqs[0] if seqs else None,
        "last_seq": seqs[-1] if seqs else None,
        "duplicates": len(seqs) - len(unique),
        "missing_below_max": missing,
        "out_of_order": out_of_order,
        "in_order_from_zero": seqs == expected,
        "socket_drops": drops,
    }
    print(json.dumps(summary))
    return 0


# --- monitor --------------------------------------------------------------------------------

def kind_of(frame):
    if len(frame) < 14:
        return "runt"
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0806:
        return "arp"
    if ethertype == ETH_P_TEST:
        return "test"
    if ethertype == 0x86DD:
        return "ipv6"
    if ethertype == 0x0800 and len(frame) >= 34:
        return "icmp" if frame[23] == 1 else "ipv4"
    return "other"


def cmd_monitor(args):
    ports = [Port(spec) for spec in args.ports]
    counts = {p.spec: {"to_guest": {}, "from_guest": {}} for p in ports}
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    with open(args.ready, "w") as f:
        f.write("ready\n")
    socks = {p.sock: p for p in ports}
    while True:
        ready, _, _ = select.select(list(socks), [], [], 0.1)
        for s in ready:
            p = socks[s]
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                # On a tap, what the host sends goes to the guest, what it receives came from it.
                way = "to_guest" if addr[2] == PACKET_OUTGOING else "from_guest"
                c = counts[p.spec][way].setdefault(kind_of(frame), [0, 0])
                c[0] += 1
                c[1] += len(frame)
        if stop and not ready:
            break
    result = {}
    for p in ports:
        result[p.spec] = {"kinds": counts[p.spec], "socket_drops": p.drops()}
        for way in ("to_guest", "from_guest"):
            kinds = counts[p.spec][way].values()
            result[p.spec][way] = [sum(k[0] for k in kinds), sum(k[1] for k in kinds)]
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("sweep")
    p.add_argument("--a", required=True, help="NS:IF")
    p.add_argument("--b", required=True, help="NS:IF")
    p.add_argument("--min", type=int, default=60)
    p.add_argument("--max", type=int, default=1514)
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for each frame")
    p.add_argument("--give-up", type=int, default=5, help="stop a direction after this many losses in a row")
    p.add_argument("--seed", type=int, default=random.randrange(1 << 32))
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("send")
    p.add_argument("--src", required=True, help="NS:IF the frames leave from")
    p.add_argument("--dst", required=True, help="NS:IF where they are counted")
    p.add_argument("--frames", action="append", required=True,
                   help="TAG,DST_MAC,COUNT,SIZE (SIZE a number or 'random' for 60..1514)")
    p.add_argument("--gap-ms", type=float, default=0.5)
    p.add_argument("--wait", type=float, default=2.0, help="seconds to wait for stragglers")
    p.add_argument("--seed", type=int, default=random.randrange(1 << 32))
    p.add_argument("--json", help="write {tag: received} here")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("pktgen")
    p.add_argument("--port", required=True, help="NS:IF")
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", default="ff:ff:ff:ff:ff:ff")
    p.add_argument("--size", type=int, default=60)
    p.add_argument("--expect", type=int, help="stop once this many frames arrived")
    p.add_argument("--idle", type=float, default=3.0, help="stop this long after the last frame")
    p.add_argument("--first-timeout", type=float, default=30.0,
                   help="give up if the first frame has not arrived after this long")
    p.add_argument("--max-seconds", type=float, default=120.0)
    p.add_argument("--ready", required=True, help="file written once the socket is open")
    p.set_defaults(func=cmd_pktgen)

    p = sub.add_parser("monitor")
    p.add_argument("ports", nargs="+", help="NS:IF")
    p.add_argument("--out", required=True)
    p.add_argument("--ready", required=True)
    p.set_defaults(func=cmd_monitor)

    args = ap.parse_args()
    if args.cmd == "send":
        print(f"seed {args.seed}")
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
