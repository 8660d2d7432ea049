#!/usr/bin/env python3
"""The soak's verdict (bench/soak.sh): did any resource grow without bound, and did the load work?

usage: soak_check.py samples.csv load.json h2load.txt --duration S      exit 0 = passed

Growth rule, per series: samples before the warm-up (a quarter of the run, at most 600 s) are not judged;
the rest is cut into three equal thirds by time; the series FAILS when
    median(last third) > median(middle third) * (1 + REL) + ABS
with REL and ABS from LIMITS. Medians make one spike (a GC, a burst of connections) harmless, while a
steady leak raises the last third above the middle one by a third of the judged span times its rate.
The least-squares slope over the judged samples is printed too (per hour, and as % of the median per
hour) for the record; it does not decide.

Load rule: every scenario has run (ok > 0; the failing-origin one: expected > 0), and unexpected errors
are at most 2 % of its operations (h2load: failed requests at most 2 %).
"""
import argparse, csv, json, re, statistics, sys

# series: (REL, ABS) in the series' unit (KiB, count or bytes)
LIMITS = {
    "rss_kib": (0.10, 16384),
    "heap_after_gc_kib": (0.05, 1024),
    "fds": (0.0, 16),
    "threads": (0.0, 2),
    "pending_tasks": (0.0, 16),
    "max_pending_tasks": (0.0, 16),
    "netty_direct": (0.10, 4 << 20),
    "allocator_direct": (0.10, 4 << 20),
    "jdk_direct": (0.10, 4 << 20),
    "jdk_direct_count": (0.0, 16),
}
MAX_ERROR_SHARE = 0.02


def warmup(duration):
    return min(600.0, duration / 4.0)


def slope(ts, ys):
    n = len(ts)
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    return 0.0 if var == 0 else sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("samples"); ap.add_argument("load"); ap.add_argument("h2load")
    ap.add_argument("--duration", type=float, required=True)
    a = ap.parse_args()
    failures = []
    rows = list(csv.DictReader(open(a.samples)))
    start, end = warmup(a.duration), a.duration
    judged = [r for r in rows if float(r["t_s"]) >= start]
    if not rows or float(rows[-1]["t_s"]) < end * 0.9:
        failures.append("samples stop at %s s of %d (River or the probe died?)" % (rows[-1]["t_s"] if rows else "0", end))
    elif len(judged) < 6:
        failures.append("only %d samples after the warm-up: run longer or sample more often" % len(judged))
    print("warm-up %.0f s; judged %d samples from %.0f s to %s s" % (start, len(judged), start, rows[-1]["t_s"] if rows else "-"))
    print("%-18s %12s %12s %12s %12s %14s %8s  %s" % ("series", "first", "mid-median", "last-median", "limit", "slope/h", "%/h", "verdict"))
    if len(judged) >= 6:
        t0 = float(judged[0]["t_s"]); span = float(judged[-1]["t_s"]) - t0
        mid = [r for r in judged if t0 + span / 3 <= float(r["t_s"]) < t0 + 2 * span / 3]
        last = [r for r in judged if float(r["t_s"]) >= t0 + 2 * span / 3]
        for name, (rel, ab) in LIMITS.items():
            ys = [float(r[name]) for r in judged]
            m_mid = statistics.median(float(r[name]) for r in mid)
            m_last = statistics.median(float(r[name]) for r in last)
            limit = m_mid * (1 + rel) + ab
            s = slope([float(r["t_s"]) for r in judged], ys) * 3600
            med = statistics.median(ys)
            pct = 100 * s / med if med > 0 else 0.0
            ok = m_last <= limit
            if not ok:
                failures.append("%s grows: last third's median %.0f > %.0f (middle third's %.0f x %.2f + %d)" % (
                    name, m_last, limit, m_mid, 1 + rel, ab))
            print("%-18s %12s %12.0f %12.0f %12.0f %14.0f %8.1f  %s" % (
                name, rows[0][name], m_mid, m_last, limit, s, pct, "ok" if ok else "GROWS"))
    load = json.load(open(a.load))
    print("\n%-30s %8s %9s %6s  %s" % ("scenario", "ok", "expected", "error", "last error"))
    for name, c in sorted(load.items()):
        total = c["ok"] + c["expected"] + c["error"]
        print("%-30s %8d %9d %6d  %s" % (name, c["ok"], c["expected"], c["error"], c["last_error"]))
        if c["ok"] + c["expected"] == 0:
            failures.append("%s never succeeded" % name)
        elif c["error"] > MAX_ERROR_SHARE * total:
            failures.append("%s: %d of %d operations failed unexpectedly (%s)" % (name, c["error"], total, c["last_error"]))
    if len(load) < 10:
        failures.append("only %d load scenarios reported" % len(load))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed", open(a.h2load).read())
    if not m:
        failures.append("h2load printed no result")
    else:
        done, ok, failed = int(m.group(3)), int(m.group(4)), int(m.group(5))
        print("%-30s %8d %9d %6d" % ("h2load (HTTP/2, 2x4 streams)", ok, 0, failed))
        if ok == 0 or failed > MAX_ERROR_SHARE * max(done, 1):
            failures.append("h2load: %d succeeded, %d failed" % (ok, failed))
    print()
    for f in failures:
        print("FAIL:", f)
    print("PASSED" if not failures else "FAILED")
    return 1 if failures else 0

sys.exit(main())
