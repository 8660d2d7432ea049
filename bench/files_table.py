#!/usr/bin/env python3
"""The table of files.sh: files_table.py RAW.tsv -> markdown on stdout.

RAW rows: round, scenario, server, metric, value (round "check" for the curl checks).
Per scenario and server: median (min-max) over rounds; River / nginx as a ratio of the medians and
as the median (min-max) of per-round pairs (adjacent windows, the fairer comparison on a noisy box);
with a "river-base" server (files.sh --base-jar), River / river-base the same way.
"""
import statistics as st
import sys

NAMES = {"a": "a. 1 MiB file", "b": "b. 64 KiB file", "at": "a-tls. 1 MiB file, TLS",
         "bt": "b-tls. 64 KiB file, TLS", "c": "c. 100 KiB HTML proxied, gzip on the fly"}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
checks = {(r[1], r[2], r[3]): r[4] for r in rows if r[0] == "check"}
data = {}
for rnd, s, srv, k, v in (r for r in rows if r[0] != "check"):
    data.setdefault((s, srv, k), {})[int(rnd)] = float(v)
scen = [s for s in NAMES if any(key[0] == s for key in data)]
servers = [v for v in ("river", "river-base", "nginx", "river-ofc", "nginx-ofc") if any(key[1] == v for key in data)]


def mm(vals, fmt):
    v = list(vals)
    return (fmt + " (" + fmt + "–" + fmt + ")") % (st.median(v), min(v), max(v)) if v else "-"


def pairs(s, k, ref="nginx", me="river"):
    r, n = data.get((s, me, k), {}), data.get((s, ref, k), {})
    return [r[i] / n[i] for i in r if i in n and n[i]]


print("| scenario | server | req/s | CPU µs / request | server CPU, % of a core | bytes / response | the other servers' CPU meanwhile | windows |")
print("|---|---|---|---|---|---|---|---|")
for s in scen:
    for srv in servers:
        g = lambda k: data.get((s, srv, k), {}).values()
        print("| %s | %s | %s | %s | %s | %s | %s %% | %d |" % (
            NAMES[s], srv, mm(g("rps"), "%.0f"), mm(g("cpu_us_per_req"), "%.1f"), mm(g("cpu_pct"), "%.0f"),
            mm(g("bytes_per_resp"), "%.0f"), mm(g("peer_cpu_pct"), "%.1f"), len(list(g("rps")))))
COMPARE = [("river", "nginx"), ("river", "river-base"), ("river-ofc", "nginx-ofc"), ("river-ofc", "nginx"),
           ("river-ofc", "river"), ("nginx-ofc", "nginx")]
for me, ref in ((m, r) for m, r in COMPARE if m in servers and r in servers):
    print()
    print("| scenario | %s ÷ %s req/s: medians | per-round pairs, median (min–max) | %s ÷ %s CPU per request: medians | per-round pairs | errors (%s, %s) |" % (me, ref, me, ref, me, ref))
    print("|---|---|---|---|---|---|")
    for s in scen:
        med = lambda srv, k: st.median(data[(s, srv, k)].values())
        pr, pc = pairs(s, "rps", ref, me), pairs(s, "cpu_us_per_req", ref, me)
        err = lambda srv: int(sum(data.get((s, srv, "errors"), {}).values()))
        print("| %s | %.2f | %s | %.2f | %s | %d, %d |" % (
            NAMES[s], med(me, "rps") / med(ref, "rps"), mm(pr, "%.2f"),
            med(me, "cpu_us_per_req") / med(ref, "cpu_us_per_req"), mm(pc, "%.2f"), err(me), err(ref)))
if any(k[0] == "c" for k in checks):
    print()
    print("| compression (c, measured with curl -H 'Accept-Encoding: gzip') | gzip bytes | ratio (compressed ÷ original) |")
    print("|---|---|---|")
    for srv in servers:
        if ("c", srv, "ratio") in checks:
            print("| %s | %s | %s |" % (srv, checks[("c", srv, "gzip_bytes")], checks[("c", srv, "ratio")]))
fo = [v for (s, srv, k), d in data.items() if k == "foreign_pct" for v in d.values()]
if fo:
    print("\nCPU used by processes this run did not start, per window: median %.0f %%, max %.0f %% of a core"
          " (%d of %d windows above 10 %%)" % (st.median(fo), max(fo), sum(1 for f in fo if f > 10), len(fo)))
