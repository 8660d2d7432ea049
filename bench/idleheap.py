#!/usr/bin/env python3
"""Heap bytes per connection by class, from two `jmap -histo:live` outputs and a connection count.

usage: idleheap.py BEFORE AFTER N

int[] is left out of the total: on JDK 17 the histogram counts the heap's int[] fillers, which a heap
dump of the same moment does not hold (3,000 more int[] in the histogram, 843 in the dump). The
upstream side (the pool's connections to the origin) is left out too: it is not per client connection.
"""
import re
import sys


def load(path):
    d = {}
    for line in open(path):
        m = re.match(r'\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)', line)
        if m:
            d[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return d


a, b, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
rows = []
for k in set(a) | set(b):
    ca, ba = a.get(k, (0, 0))
    cb, bb = b.get(k, (0, 0))
    rows.append((bb - ba, cb - ca, k))
rows.sort(reverse=True)
kept = sum(r[0] for r in rows if r[2] != '[I' and 'upstream' not in r[2] and 'HttpClientCodec' not in r[2])
print(f"heap per connection: {kept / n:.1f} B (all classes: {sum(r[0] for r in rows) / n:.1f} B)")
for db, dc, k in rows[:45]:
    if db / n >= 4:
        print(f"{db / n:8.1f} B {dc / n:6.2f} per conn  {k}")
