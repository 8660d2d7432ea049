#!/usr/bin/env python3
"""The soak's clients (bench/soak.sh): a mix of well-behaved and badly-behaved traffic at a modest, steady rate.

Every scenario is a loop that starts one operation every 1/RATE seconds (skipping a beat rather than piling
up when River is slow) and bounds each operation with a timeout. Counts go to --stats as JSON every 10 s:
per scenario "ok", "expected" (a failure the scenario provokes: a reset origin's 502, a stalled origin's
504 or cut body), "error" (anything else). HTTP/2 with many streams is h2load's part (soak.sh runs it).
"""
import argparse, asyncio, base64, json, os, socket, ssl, struct, time

A = None
STATS = {}
SSL = ssl.create_default_context()
SSL.check_hostname = False
SSL.verify_mode = ssl.CERT_NONE
SSL.set_alpn_protocols(["http/1.1"])


class Expected(Exception):
    """A failure the scenario provokes on purpose."""


def count(name, kind):
    STATS.setdefault(name, {"ok": 0, "expected": 0, "error": 0, "last_error": ""})[kind] += 1


async def connect(tls=False):
    return await asyncio.open_connection("127.0.0.1", A.tls_port if tls else A.port, ssl=SSL if tls else None,
                                         server_hostname="localhost" if tls else None, limit=65536)


def request(method, path, body_len=0, close=False, extra=""):
    h = "%s %s HTTP/1.1\r\nHost: localhost\r\n%s" % (method, path, extra)
    if body_len:
        h += "Content-Length: %d\r\n" % body_len
    if close:
        h += "Connection: close\r\n"
    return (h + "\r\n").encode()


async def response(reader, max_body=None):
    """Reads one response; returns (status, body bytes read). Stops after max_body bytes if given."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
    got = 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            await reader.readexactly(size + 2)
            got += size
    else:
        left = int(headers.get("content-length", "0"))
        if max_body is not None:
            left = min(left, max_body)
        while left > 0:
            chunk = await reader.read(min(left, 65536))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", left)
            got += len(chunk)
            left -= len(chunk)
    return status, got, headers


def abort(writer, rst):
    if rst:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class KeepAlive:
    """One client connection reused across operations, reopened when River or an error closes it."""

    def __init__(self, tls=False):
        self.tls, self.rw = tls, None

    async def get(self):
        if self.rw is None or self.rw[0].at_eof():
            self.rw = await connect(self.tls)
        return self.rw

    def drop(self):
        if self.rw:
            self.rw[1].transport.abort()
        self.rw = None


# ---------------------------------------------------------------- scenarios: op(state, i) raises on failure
async def keepalive(conn, i):
    r, w = await conn.get()
    path, size = ("/hello", 12) if i % 2 else ("/64k", 65536)
    w.write(request("GET", path))
    status, got, _ = await response(r)
    assert status == 200 and got == size, (status, got)


async def new_connection(state, i, tls=False):
    r, w = await connect(tls)
    try:
        w.write(request("GET", "/hello", close=True))
        status, got, _ = await response(r)
        assert status == 200 and got == 12, (status, got)
    finally:
        w.transport.abort()


async def tls_new_connection(state, i):
    await new_connection(state, i, tls=True)


UPLOAD = os.urandom(256 * 1024)


async def upload(conn, i):
    r, w = await conn.get()
    # To the origin that reads the whole body before it answers (nginx answers `return` at once, and a
    # response before the body is sent lets River close the client connection under the rest of it).
    w.write(request("POST", "/origin/upload", len(UPLOAD)))
    w.write(UPLOAD)
    await w.drain()
    status, got, _ = await response(r)
    assert status == 200, status


async def download(conn, i, path="/1m"):
    r, w = await conn.get()
    w.write(request("GET", path))
    status, got, _ = await response(r)
    assert status == 200 and got == 1 << 20, (status, got)


async def slow_download(state, i):
    r, w = await connect()
    try:
        w.write(request("GET", "/slow/1m", close=True))
        status, got, _ = await response(r)
        assert status == 200 and got == 1 << 20, (status, got)
    finally:
        w.transport.abort()


async def abort_upload(state, i):
    r, w = await connect(tls=i % 4 == 0)
    w.write(request("POST", "/upload", 1 << 20))
    w.write(UPLOAD[:64 * 1024])
    await w.drain()
    abort(w, rst=i % 2 == 0)


async def abort_download(state, i):
    r, w = await connect(tls=i % 4 == 0)
    w.write(request("GET", "/1m"))
    await response(r, max_body=64 * 1024)
    abort(w, rst=i % 2 == 0)


async def failing_origin(state, i):
    """Alternately a reset and a stall, before and after the response head; the client waits for River."""
    path = ["/origin/reset", "/origin/reset-head", "/origin/stall", "/origin/stall-head"][i % 4]
    r, w = await connect()
    try:
        w.write(request("GET", path, close=True))
        try:
            status, got, _ = await response(r)
        except (asyncio.IncompleteReadError, ConnectionError):
            raise Expected()  # River cut the client's body once the origin failed mid-body
        if status in (502, 504):
            raise Expected()
        raise AssertionError("%s gave %d with %d bytes" % (path, status, got))
    finally:
        w.transport.abort()


async def stalled_origin_client_leaves(state, i):
    r, w = await connect()
    w.write(request("GET", "/origin/stall" if i % 2 else "/origin/stall-head"))
    try:
        await asyncio.wait_for(response(r), 1.0)
    except asyncio.TimeoutError:
        pass
    abort(w, rst=i % 3 == 0)


def ws_frame(payload, op=2):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | op]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return head + mask + bytes(b ^ mask[k % 4] for k, b in enumerate(payload))


async def ws_open():
    r, w = await connect()
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(request("GET", "/origin/ws", extra="Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n" % key))
    head = await r.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head[:40]
    return r, w


async def ws_echo(r, w, payload, op=2):
    w.write(ws_frame(payload, op))
    h = await r.readexactly(2)
    n = h[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", await r.readexactly(2))[0]
    data = await r.readexactly(n)
    assert data == payload, "echo differs"


class WsLong:
    def __init__(self):
        self.rw = None


async def ws_long(state, i):
    """One long-lived WebSocket, a message a beat."""
    if state.rw is None:
        state.rw = await ws_open()
    try:
        await ws_echo(*state.rw, os.urandom(1024))
    except BaseException:
        state.rw[1].transport.abort()
        state.rw = None
        raise


async def ws_short(state, i):
    r, w = await ws_open()
    try:
        for k in range(3):
            await ws_echo(r, w, os.urandom(200 + k))
        if i % 2:
            await ws_echo(r, w, struct.pack("!H", 1000), op=8)
    finally:
        abort(w, rst=i % 3 == 0)


async def h2_reset_streams(state, i):
    """HTTP/2 over TLS: a stream the client resets mid-body, then a request on the same connection."""
    import h2.connection, h2.config, h2.events, h2.errors
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    r, w = await asyncio.open_connection("127.0.0.1", A.tls_port, ssl=ctx, server_hostname="localhost")
    try:
        c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        c.initiate_connection()
        hdr = lambda p: [(":method", "GET"), (":scheme", "https"), (":authority", "localhost"), (":path", p)]
        c.send_headers(1, hdr("/1m"), end_stream=True)
        w.write(c.data_to_send())
        second, done, status = False, False, None
        while not done:
            data = await r.read(65536)
            if not data:
                raise ConnectionError("closed")
            for e in c.receive_data(data):
                if isinstance(e, h2.events.DataReceived):
                    c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                    if e.stream_id == 1 and not second:
                        c.reset_stream(1, h2.errors.ErrorCodes.CANCEL)
                        c.send_headers(3, hdr("/hello"), end_stream=True)
                        second = True
                elif isinstance(e, h2.events.ResponseReceived) and e.stream_id == 3:
                    status = dict(e.headers).get(b":status")
                elif isinstance(e, h2.events.StreamEnded) and e.stream_id == 3:
                    done = True
                elif isinstance(e, h2.events.ConnectionTerminated):
                    raise ConnectionError("GOAWAY %s" % e.error_code)
            w.write(c.data_to_send())
        assert status == b"200", status
        c.close_connection()
        w.write(c.data_to_send())
    finally:
        w.transport.abort()


# name, rate per second, op, state factory, timeout s
SCENARIOS = [
    ("h1_keepalive_a", 4, keepalive, KeepAlive, 10),
    ("h1_keepalive_b", 4, keepalive, KeepAlive, 10),
    ("h1_new_connection", 4, new_connection, lambda: None, 10),
    ("tls_new_connection", 1, tls_new_connection, lambda: None, 10),
    ("upload_256k", 2, upload, KeepAlive, 15),
    ("download_1m", 1, download, KeepAlive, 15),
    ("download_1m_tls", 0.5, download, lambda: KeepAlive(tls=True), 15),
    ("slow_origin_1m", 0.2, slow_download, lambda: None, 30),
    ("client_aborts_upload", 1, abort_upload, lambda: None, 10),
    ("client_aborts_download", 1, abort_download, lambda: None, 10),
    ("origin_resets_or_stalls", 0.5, failing_origin, lambda: None, 30),
    ("client_leaves_stalled_origin", 0.5, stalled_origin_client_leaves, lambda: None, 10),
    ("websocket_long", 1, ws_long, WsLong, 10),
    ("websocket_short", 0.5, ws_short, lambda: None, 10),
    ("h2_client_resets_stream", 0.5, h2_reset_streams, lambda: None, 15),
]


async def run(name, rate, op, factory, timeout, end):
    state, period, i = factory(), 1.0 / rate, 0
    next_at = time.monotonic()
    while time.monotonic() < end:
        try:
            await asyncio.wait_for(op(state, i), timeout)
            count(name, "ok")
        except Expected:
            count(name, "expected")
        except (Exception, asyncio.TimeoutError) as e:
            count(name, "error")
            STATS[name]["last_error"] = "%s %s" % (type(e).__name__, str(e)[:100])
            if isinstance(state, KeepAlive):
                state.drop()
        i += 1
        next_at += period
        now = time.monotonic()
        if next_at < now:
            next_at = now  # skip beats rather than bursting to catch up
        await asyncio.sleep(next_at - now)
    if isinstance(state, KeepAlive):
        state.drop()


async def report(end):
    while True:
        with open(A.stats + ".tmp", "w") as f:
            json.dump(STATS, f, indent=1, sort_keys=True)
        os.replace(A.stats + ".tmp", A.stats)
        if time.monotonic() >= end:
            return
        await asyncio.sleep(min(10, max(0.1, end - time.monotonic())))


async def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls-port", type=int, required=True)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--stats", required=True)
    A = ap.parse_args()
    end = time.monotonic() + A.duration
    await asyncio.gather(report(end), *(run(*s, end) for s in SCENARIOS))
    await report(end)  # the final counts, once every scenario has stopped

asyncio.run(main())
