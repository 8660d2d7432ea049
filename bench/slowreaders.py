#!/usr/bin/env python3
"""Slow readers and a new-connection probe, for slowreaders.sh (python3 standard library only).

  slowreaders.py burst --port P [--n 200] [--path /10m] [--chunk 16384] [--every 0.1] [--rcvbuf 16384]
                       [--duration 20] [--probe-every 0.1] [--probe-path /hello] [--ready-file F] [--probe-log F]
      Opens N connections that each GET PATH and read it at a trickle (at most CHUNK bytes per EVERY
      seconds, with a small receive buffer so the proxy's writes back up), all from one thread. Meanwhile
      another thread opens a NEW connection every PROBE_EVERY seconds, sends GET PROBE_PATH and times
      connect -> complete response. The probe starts once every reader has its response head (or after
      10 s), writes READY-FILE, and runs for DURATION seconds; PROBE-LOG gets one line per probe (its
      start as Unix time, then milliseconds or "fail"), to lay beside a GC log or a profile. Prints one line:
        probes=N ok=N fail=N p50_ms=X p99_ms=X max_ms=X readers=N reader_mib=X window_s=X
  slowreaders.py free-ports K     -> K free loopback TCP ports, one a line
  slowreaders.py table FILE.tsv   -> markdown table of a run's rows (round, proxy, key, value)
"""
import argparse
import socket
import statistics
import sys
import threading
import time


def request(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowreaders\r\n\r\n".encode()


class Reader:
    """One slow client: a socket, its request sent, and how far it has read."""

    def __init__(self, port, path, rcvbuf):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Set before connect so the advertised window stays small.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(request(path))
        self.sock.setblocking(False)
        self.head = b""
        self.has_head = False
        self.read = 0
        self.closed = False

    def trickle(self, chunk):
        """Reads at most CHUNK bytes of what is waiting; never blocks."""
        got = 0
        while got < chunk and not self.closed:
            try:
                data = self.sock.recv(chunk - got)
            except BlockingIOError:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            got += len(data)
            if not self.has_head:
                self.head += data
                if b"\r\n\r\n" in self.head:
                    self.has_head = True
                    self.head = b""
        self.read += got
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def probe_once(port, path, timeout):
    """Connect, GET PATH, read the whole response (Content-Length framed). Returns seconds, or None."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(request(path).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        buf = b""
        need = None
        while True:
            data = s.recv(65536)
            if not data:
                break
            buf += data
            if need is None and b"\r\n\r\n" in buf:
                head, _, _ = buf.partition(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    return None
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        need = len(head) + 4 + int(v.strip())
            if need is not None and len(buf) >= need:
                return time.monotonic() - t0
        return time.monotonic() - t0 if need is not None and len(buf) >= need else None
    except OSError:
        return None
    finally:
        s.close()


def burst(a):
    stop = threading.Event()
    started = threading.Event()
    results = []  # seconds, or None for a failed probe
    timeline = []  # (start as Unix time, seconds or None), for --probe-log

    def prober():
        started.wait(30)
        next_at = time.monotonic()
        end = next_at + a.duration
        while time.monotonic() < end and not stop.is_set():
            at = time.time()
            results.append(probe_once(a.port, a.probe_path, a.probe_timeout))
            timeline.append((at, results[-1]))
            next_at += a.probe_every
            time.sleep(max(0.0, next_at - time.monotonic()))
        stop.set()

    t = threading.Thread(target=prober, daemon=True)
    t.start()
    readers = []
    for _ in range(a.n):
        try:
            readers.append(Reader(a.port, a.path, a.rcvbuf))
        except OSError as e:
            print(f"reader connect failed: {e}", file=sys.stderr)
    t_open = time.monotonic()
    window_start = None
    next_tick = time.monotonic()
    # Bounded: the prober stops after DURATION; the readers' loop ends with it (or after a hard cap).
    hard_end = time.monotonic() + a.duration + 60
    while not stop.is_set() and time.monotonic() < hard_end:
        for r in readers:
            r.trickle(a.chunk)
        if window_start is None and (all(r.has_head or r.closed for r in readers) or time.monotonic() - t_open > 10):
            window_start = time.monotonic()
            read_at_start = sum(r.read for r in readers)
            if a.ready_file:
                with open(a.ready_file, "w") as f:
                    f.write(f"{sum(r.has_head for r in readers)}\n")
            started.set()
        next_tick += a.every
        time.sleep(max(0.0, next_tick - time.monotonic()))
    stop.set()
    t.join(a.probe_timeout + 5)
    window = time.monotonic() - (window_start or t_open)
    mib = (sum(r.read for r in readers) - (read_at_start if window_start else 0)) / 2 ** 20
    alive = sum(1 for r in readers if r.has_head and not r.closed)
    for r in readers:
        r.close()
    if a.probe_log:
        with open(a.probe_log, "w") as f:
            for at, x in timeline:
                f.write(f"{at:.3f} {'fail' if x is None else f'{x * 1000:.1f}'}\n")
    ok = sorted(x * 1000 for x in results if x is not None)
    fail = len(results) - len(ok)

    def pct(p):
        return ok[min(len(ok) - 1, int(round(p / 100 * (len(ok) - 1))))] if ok else float("nan")

    print(f"probes={len(results)} ok={len(ok)} fail={fail} p50_ms={pct(50):.1f} p99_ms={pct(99):.1f} "
          f"max_ms={(ok[-1] if ok else float('nan')):.1f} mean_ms={(statistics.mean(ok) if ok else float('nan')):.1f} "
          f"readers={alive} reader_mib={mib:.1f} window_s={window:.1f}")


def free_ports(k):
    socks = [socket.socket() for _ in range(k)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    for s in socks:
        print(s.getsockname()[1])
    for s in socks:
        s.close()


def table(path):
    """Medians (min–max) per proxy and River ÷ nginx of the medians."""
    data = {}
    for line in open(path):
        p = line.rstrip("\n").split("\t")
        if len(p) != 4:
            continue
        try:
            data.setdefault(p[1], {}).setdefault(p[2], []).append(float(p[3]))
        except ValueError:
            pass
    keys = [("p50_ms", "probe p50, ms"), ("p99_ms", "probe p99, ms"), ("max_ms", "probe max, ms"),
            ("fail", "failed probes"), ("cpu_s", "proxy CPU s in the window"),
            ("jit_s", "of which JIT compiler threads, s"), ("cpu_per_gib", "proxy CPU s per GiB to readers"), ("reader_mib", "MiB read by the readers"),
            ("loop_run_s", "event-loop thread on a CPU, s"), ("loop_wait_s", "event-loop thread waiting for a CPU, s"),
            ("foreign", "foreign CPU, % of a core"), ("load1", "load average (1 min) after")]
    keys += [("cold_" + k, "first burst after start: " + label) for k, label in keys if k in ("p50_ms", "p99_ms", "max_ms", "cpu_s", "jit_s", "loop_wait_s", "foreign")]
    order = ("river-base", "river", "nginx")
    proxies = [x for x in order if x in data] + sorted(x for x in data if x not in order)
    out = ["| figure | " + " | ".join(proxies) + (" | river ÷ nginx |" if "river" in data and "nginx" in data else " |"),
           "|---|" + "---|" * len(proxies) + ("---|" if "river" in data and "nginx" in data else "")]
    for k, label in keys:
        if not any(k in data[p] for p in proxies):
            continue
        cells, meds = [], {}
        for p in proxies:
            vs = data[p].get(k)
            if not vs:
                cells.append("–")
                continue
            meds[p] = statistics.median(vs)
            cells.append(f"{meds[p]:,.1f}" + (f" ({min(vs):,.1f}–{max(vs):,.1f})" if len(vs) > 1 else ""))
        row = f"| {label} | " + " | ".join(cells) + " |"
        if "river" in data and "nginx" in data:
            r, n = meds.get("river"), meds.get("nginx")
            row += f" {r / n:.2f} |" if r is not None and n and not k.endswith(("foreign", "fail", "load1", "loop_wait_s")) else " – |"
        out.append(row)
    n = max((len(v) for d in data.values() for v in d.values()), default=0)
    out.append("")
    out.append(f"Cells: median (min–max) over {n} round(s).")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("burst")
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--n", type=int, default=200)
    b.add_argument("--path", default="/10m")
    b.add_argument("--chunk", type=int, default=16384)
    b.add_argument("--every", type=float, default=0.1)
    b.add_argument("--rcvbuf", type=int, default=16384)
    b.add_argument("--duration", type=float, default=20)
    b.add_argument("--probe-every", type=float, default=0.1)
    b.add_argument("--probe-path", default="/hello")
    b.add_argument("--probe-timeout", type=float, default=15)
    b.add_argument("--ready-file")
    b.add_argument("--probe-log")
    f = sub.add_parser("free-ports")
    f.add_argument("k", type=int)
    t = sub.add_parser("table")
    t.add_argument("file")
    a = ap.parse_args()
    if a.cmd == "burst":
        burst(a)
    elif a.cmd == "free-ports":
        free_ports(a.k)
    else:
        table(a.file)


if __name__ == "__main__":
    main()
