#!/usr/bin/env python3
"""The soak's misbehaving origin (bench/soak.sh): a WebSocket echo server and paths that fail.

  /origin/ws          WebSocket upgrade, then echoes every frame (text, binary, ping -> pong, close)
  /origin/reset       response head and 1000 of 100000 body bytes, then a TCP reset
  /origin/reset-head  a TCP reset instead of any response
  /origin/stall       response head and 1000 of 100000 body bytes, then silence for STALL seconds
  /origin/stall-head  silence for STALL seconds, no response
  anything else       200 "ok" (keep-alive)
Bounded: request heads up to 16 KiB, bodies read and dropped, every connection closed after STALL + 5 s idle.
"""
import argparse, asyncio, base64, hashlib, socket, struct

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B3F"
STALL = 30


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def websocket(reader, writer, key):
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    while True:
        h = await asyncio.wait_for(reader.readexactly(2), STALL + 5)
        op, n = h[0] & 0x0F, h[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        if n > 1 << 20:
            return
        mask = await reader.readexactly(4) if h[1] & 0x80 else b"\0\0\0\0"
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(n)))
        if op == 9:
            op = 10
        head = bytes([0x80 | op]) + (bytes([n]) if n < 126 else b"\x7e" + struct.pack("!H", n) if n < 65536
                                      else b"\x7f" + struct.pack("!Q", n))
        writer.write(head + data)
        await writer.drain()
        if op == 8:
            return


async def serve(reader, writer):
    try:
        while True:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STALL + 5)
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            left = int(headers.get("content-length", "0"))
            while left > 0:
                left -= len(await asyncio.wait_for(reader.read(min(left, 65536)), STALL + 5) or b"x" * left)
            if path.startswith("/origin/ws") and "sec-websocket-key" in headers:
                await websocket(reader, writer, headers["sec-websocket-key"])
                return
            partial = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000
            if path.startswith("/origin/reset-head"):
                reset(writer); return
            if path.startswith("/origin/reset"):
                writer.write(partial); await writer.drain(); reset(writer); return
            if path.startswith("/origin/stall-head"):
                await asyncio.sleep(STALL); return
            if path.startswith("/origin/stall"):
                writer.write(partial); await writer.drain(); await asyncio.sleep(STALL); return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, IndexError, ValueError):
        pass
    finally:
        writer.transport.abort()


async def main():
    global STALL
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stall", type=int, default=STALL)
    a = ap.parse_args()
    STALL = a.stall
    server = await asyncio.start_server(serve, "127.0.0.1", a.port, limit=16384)
    print("origin listening", a.port, flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
