#!/usr/bin/env python3
"""dpdk-telemetry.py: read a running DPDK program's port counters through its telemetry socket.

usage: dpdk-telemetry.py SOCKET stats PORT
       dpdk-telemetry.py SOCKET rate PORT SECONDS

SOCKET is the v2 telemetry socket, /var/run/dpdk/<file-prefix>/dpdk_telemetry.v2 (SOCK_SEQPACKET:
the server sends a JSON greeting on connect, then answers each command with one JSON message).
  stats  prints the JSON answer to "/ethdev/stats,PORT"
  rate   reads opackets of PORT twice, SECONDS apart, and prints
         "dpdk-telemetry: rate T0_NS OPACKETS0 T1_NS OPACKETS1 MPPS" (CLOCK_MONOTONIC, each time
         the middle of its query)
Exit status 1 when the socket cannot be reached or the answer is not what was asked.
"""
import json
import socket
import sys
import time


def query(sock: socket.socket, cmd: str, bufsize: int):
    sock.send(cmd.encode())
    reply = json.loads(sock.recv(bufsize).decode())
    key = cmd.split(",")[0]
    if key not in reply or not isinstance(reply[key], dict):
        raise RuntimeError(f"unexpected answer to {cmd}: {reply}")
    return reply[key]


def sample(sock: socket.socket, port: int, bufsize: int):
    t0 = time.monotonic_ns()
    stats = query(sock, f"/ethdev/stats,{port}", bufsize)
    t1 = time.monotonic_ns()
    return (t0 + t1) // 2, int(stats["opackets"])


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] not in ("stats", "rate"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    path, mode, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.connect(path)
        greeting = json.loads(sock.recv(1024).decode())
        bufsize = int(greeting.get("max_output_len", 16384))
        if mode == "stats":
            print(json.dumps(query(sock, f"/ethdev/stats,{port}", bufsize)))
            return 0
        seconds = float(sys.argv[4])
        t0, n0 = sample(sock, port, bufsize)
        time.sleep(seconds)
        t1, n1 = sample(sock, port, bufsize)
    except (OSError, ValueError, RuntimeError, KeyError) as e:
        print(f"dpdk-telemetry: {path}: {e}", file=sys.stderr)
        return 1
    mpps = (n1 - n0) * 1e3 / (t1 - t0) if t1 > t0 else 0.0
    print(f"dpdk-telemetry: rate {t0} {n0} {t1} {n1} {mpps:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
