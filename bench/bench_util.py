#!/usr/bin/env python3
"""Helpers for run.sh: parse wrk / h2load output, summarize raw.tsv.

  bench_util.py wrk FILE      -> "rps p50_ms p99_ms mib_per_s requests errors"
  bench_util.py h2load FILE   -> "rps requests_ok requests_failed"
  bench_util.py summary RAW.tsv [PROXY,PROXY,...]  -> markdown table
  bench_util.py summary-upstream-tls RAW.tsv [PROXY,...]  -> the same for upstream-tls.sh
  bench_util.py merge RAW.tsv PREFIX  -> RAW.tsv's rows with PREFIX before each metric (run.sh's scenario h)
"""
import re
import statistics
import sys

UNIT = {"": 1, "k": 1024, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v if u == "ms" else v * 1000 if u == "s" else v * 60000


def to_bytes(s):
    m = re.match(r"([\d.]+)([kKMGT]?)B$", s)
    return float(m.group(1)) * UNIT[m.group(2)]


def parse_wrk(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+), (\S+) read", t)
    reqs = int(m.group(1))
    secs = float(m.group(2)) * {"s": 1, "ms": 0.001, "m": 60}.get(m.group(3), 1)
    mib = to_bytes(m.group(4)) / secs / 2 ** 20
    err = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    if m:
        err += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    if m:
        err += int(m.group(1))
    print(f"{rps:.2f} {p50:.3f} {p99:.3f} {mib:.2f} {reqs} {err}")


def parse_h2load(path):
    t = open(path).read()
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t)
    rps = float(m.group(1)) if m else 0.0
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed", t)
    ok, fail = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    print(f"{rps:.2f} {ok} {fail}")


# metric key -> (label, decimals)
METRICS = [
    ("a_rps", "a. /hello HTTP/1.1 req/s (wrk -c50)", 0),
    ("a_p50", "a. /hello p50 latency ms", 3),
    ("a_p99", "a. /hello p99 latency ms", 3),
    ("a_err", "a. wrk socket errors + non-2xx", 0),
    ("a_foreign", "a. foreign CPU load during a, % of 1 core (noise guard)", 0),
    ("b_rps", "b. /64k req/s", 0),
    ("b_mibps", "b. /64k MiB/s", 1),
    ("b_foreign", "b. foreign CPU load during b, %", 0),
    ("c_rps", "c. h2load TLS+h2 /hello req/s (-c10 -m10)", 0),
    ("c_fail", "c. h2load failed requests", 0),
    ("c_foreign", "c. foreign CPU load during c, %", 0),
    ("g_hps", "g. TLS handshakes/s (wrk, Connection: close, -c50)", 0),
    ("g_err", "g. wrk socket errors + non-2xx during g", 0),
    ("d1_per1k", "d. upstream conns opened per 1000 req, 1 worker", 3),
    ("d2_per1k", "d. upstream conns opened per 1000 req, 2 workers", 3),
    ("d2_rps", "d. /hello req/s with 2 workers (unpinned)", 0),
    ("d2_foreign", "d. foreign CPU load during 2-worker run, %", 0),
    ("e_rss_fresh", "e. RSS just after start, KiB", 0),
    ("e_rss_idle", "e. RSS idle (after load, before hold), KiB", 0),
    ("e_rss_held", "e. RSS with 5000 idle keep-alive conns, KiB", 0),
    ("e_kib_conn", "e. KiB per idle keep-alive conn", 2),
    ("e_held_ok", "e. conns held OK (of 5000)", 0),
    ("e_rss_after_tls", "e. RSS after the TLS scenarios c and g, KiB", 0),
    ("f_cpu100k", "f. proxy CPU s per 100k req (scenario a)", 3),
    ("f_util", "f. proxy CPU utilisation during a, % of 1 core", 0),
]


def fmt(v, d):
    return f"{v:,.{d}f}"


# upstream-tls.sh: metric key -> (label, decimals)
UPSTREAM_TLS_METRICS = [
    ("rps", "req/s (wrk -c200, 2 proxy threads, 16 TLS origins)", 0),
    ("p50", "p50 latency ms", 3),
    ("p99", "p99 latency ms", 3),
    ("err", "wrk socket errors + non-2xx", 0),
    ("cpu_us", "proxy CPU µs per request (utime+stime)", 2),
    ("user_us", "of which user time, µs per request", 2),
    ("sys_us", "of which system time, µs per request", 2),
    ("jit_us", "of which JIT compiler threads, µs per request", 2),
    ("util", "proxy CPU utilisation, % of 1 core", 0),
    ("origin_cpu_us", "origin CPU µs per request", 2),
    ("hs_per1k", "upstream TLS handshakes (new connections) per 1000 req", 3),
    ("full_per1k", "of which full handshakes (no session resumed) per 1000 req", 3),
    ("reuse_pct", "upstream reuse %", 3),
    ("open", "upstream connections open at the end", 0),
    ("foreign", "foreign CPU load during the window, % of 1 core", 0),
]
UPSTREAM_TLS_RATIOS = [
    ("cpu_us", "CPU per request", "lower is better; goal ≤ 0.7 of nginx"),
    ("rps", "req/s", "higher is better"),
    ("p99", "p99 latency", "lower is better"),
    ("hs_per1k", "upstream TLS handshakes per 1000 req", "lower is better"),
]


def scenario_h(rows, keys):
    """upstream-tls.sh's rows as run.sh's scenario h: metric h_KEY, label "h. LABEL"."""
    return [("h_" + k, "h. " + label, *rest) for k, label, *rest in rows if k in keys]


METRICS += scenario_h(UPSTREAM_TLS_METRICS, ("rps", "cpu_us", "hs_per1k", "reuse_pct", "foreign"))


def summary(path, order=None, metrics=METRICS, ratios=None,
            spread_keys=("a_rps", "b_rps", "c_rps", "d2_rps", "h_cpu_us")):
    data = {}
    runs = set()
    for line in open(path):
        p = line.rstrip("\n").split("\t")
        if len(p) != 4:
            continue
        run, proxy, key, val = p
        try:
            v = float(val)
        except ValueError:
            continue
        data.setdefault(proxy, {}).setdefault(key, []).append(v)
        runs.add(run)
    proxies = [x for x in (order.split(",") if order else []) if x in data]
    proxies += sorted(p for p in data if p not in proxies)
    out = []
    out.append("| figure | " + " | ".join(proxies) + " |")
    out.append("|---|" + "---|" * len(proxies))
    for key, label, d in metrics:
        if not any(key in data[p] for p in proxies):
            continue
        cells = []
        for p in proxies:
            vs = data[p].get(key)
            if not vs:
                cells.append("–")
                continue
            med = statistics.median(vs)
            if len(vs) > 1:
                cells.append(f"{fmt(med, d)} ({fmt(min(vs), d)}–{fmt(max(vs), d)})")
            else:
                cells.append(fmt(med, d))
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out.append("")
    out.append(f"Cells: median (min–max) over {len(runs)} run(s); n per cell = number of runs that produced the figure.")
    # spread note
    notes = []
    for key in spread_keys:
        for p in proxies:
            vs = data[p].get(key)
            if vs and len(vs) > 1 and statistics.median(vs) > 0:
                spread = (max(vs) - min(vs)) / statistics.median(vs) * 100
                notes.append(f"{key}:{p}={spread:.1f}%")
    if notes:
        out.append("Spread (max-min)/median: " + ", ".join(notes))
    if "river" in data and len(proxies) > 1:
        out.append("")
        out.append(ratio_table(data, proxies, ratios or RATIOS))
    print("\n".join(out))


# Figures compared as "River ÷ peer" (medians): below 1 is better for River on costs and latency,
# above 1 is better on throughput.
RATIOS = [
    ("a_rps", "a. /hello req/s", "higher is better"),
    ("a_p99", "a. /hello p99 latency", "lower is better"),
    ("f_cpu100k", "f. CPU s per 100k req", "lower is better"),
    ("b_rps", "b. /64k req/s", "higher is better"),
    ("c_rps", "c. TLS+h2 req/s", "higher is better"),
    ("g_hps", "g. TLS handshakes/s", "higher is better"),
    ("d2_per1k", "d. upstream conns per 1000 req, 2 workers", "lower is better"),
    ("d2_rps", "d. req/s with 2 workers", "higher is better"),
    ("e_rss_held", "e. RSS with idle conns held", "lower is better"),
    ("e_kib_conn", "e. KiB per idle conn", "lower is better"),
    ("e_rss_after_tls", "e. RSS after TLS load", "lower is better"),
]
RATIOS += scenario_h(UPSTREAM_TLS_RATIOS, ("cpu_us",))


def ratio_table(data, proxies, ratios):
    peers = [p for p in proxies if p != "river" and not p.startswith("origin")]
    lines = ["| River ÷ peer (medians) | " + " | ".join(peers) + " | |", "|---|" + "---|" * len(peers) + "---|"]
    for key, label, sense in ratios:
        r = data["river"].get(key)
        if not r:
            continue
        cells = []
        for p in peers:
            v = data[p].get(key)
            if not v or statistics.median(v) == 0:
                cells.append("–")
            else:
                cells.append(f"{statistics.median(r) / statistics.median(v):.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {sense} |")
    return "\n".join(lines)


def merge(path, prefix):
    """Another script's raw.tsv (run, proxy, metric, value) with prefix before each metric, for run.sh's raw.tsv."""
    for line in open(path):
        p = line.rstrip("\n").split("\t")
        if len(p) == 4:
            print("\t".join((p[0], p[1], prefix + p[2], p[3])))


def variants(path, every=False):
    """rss.sh / warmup.sh: a raw.tsv of (round, variant, metric, value) as a table of medians (min–max) per variant."""
    import collections
    cells = collections.defaultdict(list); names = []; metrics = []
    for line in open(path):
        r, n, m, v = line.rstrip('\n').split('\t')
        if n not in names: names.append(n)
        if m not in metrics: metrics.append(m)
        cells[(n, m)].append(float(v))
    print('| variant | ' + ' | '.join(metrics) + ' |'); print('|---' * (len(metrics) + 1) + '|')
    for n in names:
        row = []
        for m in metrics:
            xs = cells.get((n, m))
            cell = '–' if not xs else f'{statistics.median(xs):,.6g} ({min(xs):,.6g}–{max(xs):,.6g})'
            row.append(cell + (f' {sorted(xs)}' if xs and every else ''))
        print(f'| {n} | ' + ' | '.join(row) + ' |')
    print(f'\nmedian (min–max){" [every start]" if every else ""} over {max(len(x) for x in cells.values())} start(s) per variant')


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "wrk":
        parse_wrk(sys.argv[2])
    elif cmd == "h2load":
        parse_h2load(sys.argv[2])
    elif cmd == "summary":
        summary(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    elif cmd == "summary-upstream-tls":
        summary(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None, UPSTREAM_TLS_METRICS, UPSTREAM_TLS_RATIOS,
                ("rps", "cpu_us"))
    elif cmd == "merge":
        merge(sys.argv[2], sys.argv[3])
    elif cmd == "variants":
        variants(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "--every")
    else:
        sys.exit("unknown command")
