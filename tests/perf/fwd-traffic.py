#!/usr/bin/env python3
"""fwd-traffic.py: the routes and the traffic of the forwarding benchmark (issue 5 part 9).

usage: fwd-traffic.py TABLE[.xz] OUTDIR [--frames N] [--seed S] [--dst-mac MAC]

Reads a table of "a.b.c.d/len" lines (xz-compressed or plain) and writes into OUTDIR:
  routes.txt      the prefixes kept, one "a.b.c.d/len" per line (bench_forward --routes)
  l3fwd-v4.txt    the same prefixes for DPDK l3fwd --rule_ipv4: "R<a.b.c.d>/<len> 1" (port 1)
  l3fwd-v6.txt    one IPv6 route (l3fwd wants both files or neither)
  traffic.pcap    N frames of 60 bytes (64 on the wire with the FCS): Ethernet to --dst-mac,
                  IPv4/UDP, TTL 64, valid IPv4 header and UDP checksums (RFC 791, RFC 768), to a
                  random host of a random prefix of the table; sources in 198.19.0.0/16
                  (RFC 2544's benchmark range)

Prefixes that overlap what the benchmark uses for its own subnets (100.64.0.0/10, 198.18.0.0/15)
or that are not unicast destinations (0/8, 127/8, 224/3) are dropped from both files, so both
routers hold exactly the same table and every frame has a route. Prints the seed and counts.
"""
import argparse
import lzma
import os
import random
import struct
import sys
import time

# (network, prefix length) pairs, host byte order
EXCLUDED = [(0x00000000, 8), (0x7F000000, 8), (0xE0000000, 3), (0x64400000, 10), (0xC6120000, 15)]
FRAME_LEN = 60


def csum16(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def parse_prefix(text: str):
    """"a.b.c.d/len" -> (network, len) in host byte order; ValueError if malformed or host bits."""
    addr, _, plen = text.partition("/")
    octets = [int(o) for o in addr.split(".")]
    length = int(plen)
    if len(octets) != 4 or any(o < 0 or o > 255 for o in octets) or not 0 <= length <= 32:
        raise ValueError(text)
    net = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
    if length < 32 and net & (0xFFFFFFFF >> length):
        raise ValueError(f"host bits set in {text}")
    return net, length


def overlaps(a, b) -> bool:
    """Whether two prefixes share an address: the shorter one covers the other."""
    shortest = min(a[1], b[1])
    mask = (0xFFFFFFFF << (32 - shortest)) & 0xFFFFFFFF
    return (a[0] & mask) == (b[0] & mask)


def dotted(a: int) -> str:
    return f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def frame(dst_mac: bytes, src_ip: int, dst_ip: int, seq: int) -> bytes:
    payload = struct.pack("!4sI", b"IXYB", seq).ljust(FRAME_LEN - 14 - 20 - 8, b"\0")
    udp_len = 8 + len(payload)
    sport, dport = 1024 + seq % 50000, 9
    # UDP checksum over the pseudo-header (RFC 768); 0 would mean "none", so send 0xffff then.
    pseudo = struct.pack("!IIBBH", src_ip, dst_ip, 0, 17, udp_len)
    udp_nock = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    uc = csum16(pseudo + udp_nock) or 0xFFFF
    udp = struct.pack("!HHHH", sport, dport, udp_len, uc) + payload
    ip = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + udp_len, seq & 0xFFFF, 0, 64, 17, 0,
                     src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum16(ip)) + ip[12:]
    eth = dst_mac + bytes.fromhex("020000001001") + b"\x08\x00"
    f = eth + ip + udp
    assert len(f) == FRAME_LEN
    return f


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("table")
    ap.add_argument("outdir")
    ap.add_argument("--frames", type=int, default=8192)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--dst-mac", default="02:00:00:00:00:01")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    dst_mac = bytes.fromhex(a.dst_mac.replace(":", ""))

    opener = lzma.open if a.table.endswith(".xz") else open
    prefixes = []
    dropped = 0
    with opener(a.table, "rt") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            net = parse_prefix(line.split()[0])
            if any(overlaps(net, x) for x in EXCLUDED):
                dropped += 1
                continue
            prefixes.append(net)
    if not prefixes:
        print(f"fwd-traffic: no usable prefix in {a.table}", file=sys.stderr)
        return 1

    os.makedirs(a.outdir, exist_ok=True)
    with open(os.path.join(a.outdir, "routes.txt"), "w") as r, \
         open(os.path.join(a.outdir, "l3fwd-v4.txt"), "w") as l:
        for net, length in prefixes:
            text = f"{dotted(net)}/{length}"
            r.write(text + "\n")
            l.write(f"R{text} 1\n")
    with open(os.path.join(a.outdir, "l3fwd-v6.txt"), "w") as l:
        l.write("R2001:db8::/32 1\n")

    with open(os.path.join(a.outdir, "traffic.pcap"), "wb") as p:
        # pcap-savefile(5): magic, v2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET
        p.write(struct.pack("=IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.frames):
            net, length = prefixes[rng.randrange(len(prefixes))]
            dst = net + rng.randrange(1 << (32 - length))
            src = (198 << 24) | (19 << 16) | rng.randrange(1, 0xFFFF)
            f = frame(dst_mac, src, dst, i)
            p.write(struct.pack("=IIII", i // 1000000, i % 1000000, len(f), len(f)))
            p.write(f)
    print(f"fwd-traffic: seed {seed}, {len(prefixes)} routes ({dropped} dropped), "
          f"{a.frames} frames of {FRAME_LEN} bytes to {a.dst_mac}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
