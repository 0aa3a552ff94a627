#!/usr/bin/env python3
"""peer.py: the far end of the AF_PACKET test, run inside the peer namespace.

  send IF DST SRC COUNT [--udp FLOWS] [--vlan TCI] [--len-mode fixed60|varied]
      send COUNT frames on IF with raw packet sockets. Frame i (same pattern as ports_test.h):
      dst, src, ethertype 0x88b5, payload byte k = (i * 7 + k) & 0xff; its length is 60, or
      60 + (i * 37) % 1455 with --len-mode varied. --vlan puts an 802.1Q tag (TPID 0x8100)
      after the addresses. --udp FLOWS sends IPv4/UDP frames 10.77.0.2 -> 10.77.0.1 instead,
      source port 10000 + i % FLOWS, 60 bytes.
  sniff IF COUNT TIMEOUT_S
      print "ready", then one line of hex per frame arriving on IF with ethertype 0x88b5, until
      COUNT frames or TIMEOUT_S seconds of silence; then "done N".
"""
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def mac(s):
    return bytes(int(b, 16) for b in s.split(":"))


def frame_len(i, mode):
    return 60 if mode == "fixed60" else 60 + (i * 37) % 1455


def pattern(i, length, dst, src):
    head = dst + src + b"\x88\xb5"
    return head + bytes((i * 7 + k) & 0xFF for k in range(14, length))


def ip_checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_frame(i, flows, dst, src):
    payload = bytes(18)  # 14 + 20 + 8 + 18 = 60
    udp = struct.pack("!HHHH", 10000 + i % flows, 9, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                     socket.inet_aton("10.77.0.2"), socket.inet_aton("10.77.0.1"))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return dst + src + b"\x08\x00" + ip + udp


def send(args):
    ifname, dst, src, count = args[0], mac(args[1]), mac(args[2]), int(args[3])
    opts = dict(zip(args[4::2], args[5::2]))
    mode = opts.get("--len-mode", "fixed60")
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((ifname, 0))
    for i in range(count):
        if "--udp" in opts:
            f = udp_frame(i, int(opts["--udp"]), dst, src)
        else:
            f = pattern(i, frame_len(i, mode), dst, src)
            if "--vlan" in opts:
                f = f[:12] + struct.pack("!HH", 0x8100, int(opts["--vlan"], 0)) + f[12:]
        s.send(f)
    return 0


def sniff(args):
    ifname, count, timeout = args[0], int(args[1]), float(args[2])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: hold a whole burst
    s.bind((ifname, 0))
    s.settimeout(timeout)
    print("ready", flush=True)
    n = 0
    while n < count:
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            break
        if addr[2] == PACKET_OUTGOING or data[12:14] != b"\x88\xb5":
            continue
        print(data.hex(), flush=True)
        n += 1
    print("done %d" % n, flush=True)
    return 0


if __name__ == "__main__":
    cmds = {"send": send, "sniff": sniff}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
