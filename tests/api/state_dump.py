#!/usr/bin/python3
"""state_dump.py STATE: the routes ixyd's saved state holds, one "prefix via" per line, sorted.

An implementation of docs/api.md "Persistence" independent of api/journal.c: reads the snapshot
STATE, then the journals STATE.journal.GEN from the snapshot's generation on (header: "IXYDJRNL",
u32 version 1, u64 generation, u32 CRC-32C; records: u32 length, u32 CRC-32C of length and
payload, payload), applies route records, stops at a torn or corrupt record. With --why it
also prints, on stderr, how each journal ended. Exit 1 if the snapshot does not parse.
"""
import json
import os
import struct
import sys

_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    _T.append(c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def records(buf, gen):
    """Yield the good payloads of one journal image; the last item is how it ended."""
    if len(buf) < 24 or buf[:8] != b"IXYDJRNL" or struct.unpack_from("<I", buf, 20)[0] != crc32c(buf[:20]):
        yield ("end", "bad or torn header")
        return
    version, g = struct.unpack_from("<IQ", buf, 8)
    if version != 1 or g != gen:
        yield ("end", "header version %d generation %d" % (version, g))
        return
    off = 24
    while off < len(buf):
        if len(buf) - off < 8:
            yield ("end", "torn record header at %d" % off)
            return
        n, crc = struct.unpack_from("<II", buf, off)
        if n == 0 or off + 8 + n > len(buf):
            yield ("end", "bad or torn record at %d" % off)
            return
        if crc32c(buf[off + 8:off + 8 + n], crc32c(buf[off:off + 4])) != crc:
            yield ("end", "CRC mismatch at %d" % off)
            return
        yield ("rec", buf[off + 8:off + 8 + n])
        off += 8 + n
    yield ("end", "clean")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    why = "--why" in sys.argv
    path = args[0]
    routes = {}
    gen = 0
    if os.path.exists(path):
        s = json.load(open(path))
        assert s["version"] == 1
        gen = s.get("generation", 0)
        routes = {r["prefix"]: r["via"] for r in s["routes"]}
    while os.path.exists("%s.journal.%d" % (path, gen)):
        jp = "%s.journal.%d" % (path, gen)
        ended = None
        for kind, v in records(open(jp, "rb").read(), gen):
            if kind == "end":
                ended = v
                break
            r = json.loads(v)
            if r["op"] == "route_add":
                for x in r["routes"]:
                    routes[x["prefix"]] = x["via"]
            elif r["op"] == "routes_replace":
                routes = {x["prefix"]: x["via"] for x in r["routes"]}
            elif r["op"] == "route_del":
                routes.pop(r["prefix"], None)
        if why:
            print("%s: %s" % (jp, ended), file=sys.stderr)
        if ended != "clean" and not ended.startswith(("torn", "bad or torn record", "CRC")):
            break
        gen += 1
    for line in sorted("%s %s" % kv for kv in routes.items()):
        print(line)


main()
