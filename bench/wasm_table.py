#!/usr/bin/env python3
"""The table of wasm.sh: wasm_table.py RAW.tsv -> markdown on stdout.

RAW rows: round, scenario, server, metric, value (round "first" for the first-request figures).
Per server: median (min-max) over rounds. A plugin's cost is its River's CPU per request minus
river-none's, as medians and as the median (min-max) of per-round differences (adjacent windows,
the fairer comparison on a shared machine).
"""
import statistics as st
import sys

SERVERS = ("river-none", "river-empty", "river-headers")
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
first = {(r[2], r[3]): r[4] for r in rows if r[0] == "first"}
data = {}
for rnd, _s, srv, k, v in (r for r in rows if r[0] != "first"):
    data.setdefault((srv, k), {})[int(rnd)] = float(v)
servers = [s for s in SERVERS if (s, "rps") in data]


def mm(vals, fmt):
    v = list(vals)
    return (fmt + " (" + fmt + "–" + fmt + ")") % (st.median(v), min(v), max(v)) if v else "-"


def spread(vals):
    v = list(vals)
    return "%.0f %%" % ((max(v) - min(v)) / st.median(v) * 100) if v and st.median(v) else "-"


print("| server | req/s | CPU µs / request | spread (max−min)/median | CPU, % of a core | p99 ms | errors | the other Rivers' CPU meanwhile, % | foreign CPU, % | windows |")
print("|---|---|---|---|---|---|---|---|---|---|")
for srv in servers:
    g = lambda k: data.get((srv, k), {}).values()
    print("| %s | %s | %s | %s | %s | %s | %d | %s | %s | %d |" % (
        srv, mm(g("rps"), "%.0f"), mm(g("cpu_us_per_req"), "%.2f"), spread(g("cpu_us_per_req")), mm(g("cpu_pct"), "%.0f"),
        mm(g("p99_ms"), "%.2f"), int(sum(g("errors"))), mm(g("peer_cpu_pct"), "%.1f"), mm(g("foreign_pct"), "%.0f"), len(list(g("rps")))))

base = data.get(("river-none", "cpu_us_per_req"), {})
if base:
    print()
    print("| plugin | CPU µs / request over river-none: medians | per-round differences, median (min–max) | req/s ÷ river-none, per-round pairs |")
    print("|---|---|---|---|")
    for srv in servers[1:]:
        me = data[(srv, "cpu_us_per_req")]
        diffs = [me[i] - base[i] for i in me if i in base]
        rr = [data[(srv, "rps")][i] / data[("river-none", "rps")][i] for i in me if i in base]
        print("| %s | %+.2f | %s | %s |" % (srv, st.median(me.values()) - st.median(base.values()), mm(diffs, "%+.2f"), mm(rr, "%.2f")))

if first:
    print()
    print("| server | compilation at load, ms | VM instantiation (at load), µs | first request (curl), ms | second request, ms |")
    print("|---|---|---|---|---|")
    for srv in servers:
        f = lambda k: first.get((srv, k), "-")
        print("| %s | %s | %s | %s | %s |" % (srv, f("compile_ms"), f("instantiate_us"), f("first_request_ms"), f("second_request_ms")))
