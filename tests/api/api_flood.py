#!/usr/bin/python3
"""api_flood.py HOST PORT CONNECTIONS SECONDS

Hold CONNECTIONS concurrent HTTP/1.1 connections to the API for SECONDS (bounded: it stops when
the time is up), each sending requests from a fixed mix one after another on its own connection
(a new connection whenever the server closes one), and check every status code: health 200,
an unknown port 404, a wrong method 405 (with an Allow header), malformed JSON 400, a prefix with
/33 400, a non-JSON content type 415. Prints the counts; exits 1 if any answer was wrong or
any connection failed without an answer."""
import asyncio
import sys

MIX = [
    ("GET", "/api/v1/health", None, None, 200),
    ("GET", "/api/v1/ports/p9", None, None, 404),
    ("DELETE", "/api/v1/health", None, None, 405),
    ("POST", "/api/v1/routes", b'{"prefix": ', "application/json", 400),
    ("POST", "/api/v1/routes", b'{"prefix": "10.0.0.0/33", "via": "10.2.0.2"}', "application/json", 400),
    ("POST", "/api/v1/routes", b"prefix=10.0.0.0/8", "application/x-www-form-urlencoded", 415),
    ("GET", "/api/v1/routes?limit=5", None, None, 200),
]


async def one_request(reader, writer, req):
    method, path, body, ctype, _ = req
    head = f"{method} {path} HTTP/1.1\r\nHost: api\r\n"
    if body is not None:
        head += f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + (body or b""))
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed without an answer")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def client(host, port, idx, deadline, stats):
    loop = asyncio.get_running_loop()
    n = idx
    while loop.time() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as e:
            stats["connect_errors"] += 1
            stats["examples"].append(f"connect: {e}")
            await asyncio.sleep(0.05)
            continue
        try:
            while loop.time() < deadline:
                req = MIX[n % len(MIX)]
                n += 1
                status, headers = await one_request(reader, writer, req)
                if status != req[4] or (status == 405 and "allow" not in headers):
                    stats["wrong"] += 1
                    stats["examples"].append(f"{req[0]} {req[1]}: {status}, expected {req[4]}")
                else:
                    stats["ok"] += 1
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            stats["broken"] += 1
            stats["examples"].append(f"connection: {e!r}")
        finally:
            writer.close()


async def main():
    host, port, conns, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    stats = {"ok": 0, "wrong": 0, "broken": 0, "connect_errors": 0, "examples": []}
    deadline = asyncio.get_running_loop().time() + seconds
    await asyncio.gather(*(client(host, port, i, deadline, stats) for i in range(conns)))
    print(f"api_flood: {conns} connections, {seconds} s: {stats['ok']} right answers, "
          f"{stats['wrong']} wrong, {stats['broken']} broken connections, "
          f"{stats['connect_errors']} failed connects")
    for e in stats["examples"][:10]:
        print("  " + e)
    sys.exit(0 if stats["ok"] > 0 and not (stats["wrong"] or stats["broken"] or stats["connect_errors"]) else 1)


asyncio.run(main())
