#!/usr/bin/env python3
"""otlp_sink.py PORT - an OTLP/HTTP traces endpoint that accepts and discards every export (for
bench/tracing.sh): answers 200 with an empty ExportTraceServiceResponse, counts requests and bytes,
and prints the totals on SIGTERM."""
import http.server, signal, sys, threading

counts = {"exports": 0, "bytes": 0}
lock = threading.Lock()

class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        with lock:
            counts["exports"] += 1
            counts["bytes"] += n
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)

def stop(*_):
    print("exports=%d bytes=%d" % (counts["exports"], counts["bytes"]), flush=True)
    threading.Thread(target=server.shutdown).start()

signal.signal(signal.SIGTERM, stop)
server.serve_forever()
