#!/usr/bin/python3
"""A well-behaved HTTP/2 client (python3-h2) that keeps --concurrency GETs in flight over cleartext
HTTP/2 with prior knowledge, for as long as the file --run-while exists (at most --max-requests).
On GOAWAY it opens no new stream on that connection, lets the streams the server took (id <= the
GOAWAY's last stream id) finish, resends the ones it did not take on a new connection, and counts:

  answered_by   responses by their x-instance header
  resets        RST_STREAM frames the server sent (a stream River took and gave up: must be 0)
  refused       streams above a GOAWAY's last stream id, resent (allowed by RFC 9113 section 6.8)
  goaways       GOAWAY frames received
  errors        anything else that went wrong (a connection lost with streams in flight, a non-200)

Prints one JSON line at the end.
"""
import argparse
import json
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events


def run(args):
    stats = {"answered_by": {}, "resets": 0, "refused": 0, "goaways": 0, "connections": 0, "errors": []}
    sent = 0
    resend = 0
    deadline = time.monotonic() + args.timeout
    while os.path.exists(args.run_while) and sent < args.max_requests and time.monotonic() < deadline:
        sock = socket.create_connection(("127.0.0.1", args.port), timeout=30)
        stats["connections"] += 1
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        open_streams = {}
        goaway_last = None
        closed = False
        pending = b""

        def start_stream():
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, [(":method", "GET"), (":path", args.path), (":scheme", "http"),
                                    (":authority", "upgrade")], end_stream=True)
            open_streams[sid] = None

        while not closed:
            while (goaway_last is None and len(open_streams) < args.concurrency
                   and os.path.exists(args.run_while) and sent < args.max_requests):
                start_stream()
                if resend > 0:
                    resend -= 1
                else:
                    sent += 1
            data = conn.data_to_send()
            if data:
                sock.sendall(data)
            if not open_streams:
                break
            try:
                chunk = sock.recv(65536)
            except OSError as e:
                stats["errors"].append("recv: %s with %d streams open" % (e, len(open_streams)))
                break
            if not chunk:
                if open_streams:
                    stats["errors"].append("connection closed with streams %s open" % sorted(open_streams))
                break
            # One frame at a time, so that a GOAWAY is seen before the frames that follow it.
            pending += chunk
            events = []
            while len(pending) >= 9 and len(pending) >= 9 + int.from_bytes(pending[:3], "big"):
                size = 9 + int.from_bytes(pending[:3], "big")
                frame, pending = pending[:size], pending[size:]
                for event in conn.receive_data(frame):
                    events.append(event)
                    if isinstance(event, h2.events.ConnectionTerminated):
                        # python-h2 takes any GOAWAY for the end of the connection; RFC 9113 section
                        # 6.8 lets the streams the server took finish, so its state machine is kept
                        # open (no new stream is opened on this connection).
                        conn.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
            for event in events:
                if isinstance(event, h2.events.ResponseReceived):
                    headers = dict(event.headers)
                    open_streams[event.stream_id] = headers
                    if headers.get(":status") != "200":
                        stats["errors"].append("status %s" % headers.get(":status"))
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    headers = open_streams.pop(event.stream_id, None) or {}
                    who = headers.get("x-instance", "none")
                    if who not in stats["answered_by"]:
                        print("first answer from %s" % who, file=sys.stderr, flush=True)
                    stats["answered_by"][who] = stats["answered_by"].get(who, 0) + 1
                elif isinstance(event, h2.events.StreamReset):
                    if event.stream_id in open_streams:
                        del open_streams[event.stream_id]
                        if event.remote_reset:
                            stats["resets"] += 1
                        else:
                            stats["errors"].append("local reset of stream %d (code %s)" % (event.stream_id, event.error_code))
                elif isinstance(event, h2.events.ConnectionTerminated):
                    stats["goaways"] += 1
                    goaway_last = event.last_stream_id
                    for sid in [s for s in open_streams if s > goaway_last]:
                        del open_streams[sid]
                        stats["refused"] += 1
                        resend += 1
            data = conn.data_to_send()
            if data:
                try:
                    sock.sendall(data)
                except OSError as e:
                    stats["errors"].append("send: %s" % e)
                    closed = True
        sock.close()
    print(json.dumps(stats))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/hello")
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--run-while", required=True)
    p.add_argument("--max-requests", type=int, default=200000)
    p.add_argument("--timeout", type=float, default=300)
    run(p.parse_args())


if __name__ == "__main__":
    main()
