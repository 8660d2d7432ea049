#!/usr/bin/env python3
"""perf script output (with -g) -> share of samples per thread kind and per category (syscall or user code)."""
import sys, re, collections
cat = collections.Counter(); thr = collections.Counter(); tot = 0
block = []
def flush(b):
    global tot
    if not b: return
    head = b[0]; frames = [l.strip() for l in b[1:]]
    comm = head.split()[0] if not head.startswith(' ') else '?'
    m = re.match(r'^(\S.*?)\s+\d+(/\d+)?\s', head)
    comm = m.group(1) if m else head.split()[0]
    tot += 1
    kind = 'event loop' if re.search(r'-\d+-\d+$', comm) else ('blocking pool' if re.search(r'-\d+$', comm) else comm)
    thr[kind] += 1
    c = None
    for f in frames:
        sym = f.split(None, 1)[1] if ' ' in f else f
        if 'sys_' in sym and ('__x64_sys_' in sym or '__do_sys_' in sym):
            c = 'syscall ' + re.sub(r'.*?(__x64_sys_|__do_sys_)(\w+).*', r'\2', sym); 
    if c is None:
        if any('handle_softirqs' in f or 'net_rx_action' in f for f in frames): c = 'softirq (network)'
        elif any('[kernel' in f for f in frames[:1]): c = 'kernel other'
        elif frames and ('libjvm' in frames[0]): c = 'JVM (GC, JIT, runtime)'
        else: c = 'user code (Java, libc)'
    cat[(kind, c)] += 1
for line in sys.stdin:
    if not line.strip():
        flush(block); block = []
    else:
        block.append(line.rstrip('\n'))
flush(block)
print("samples", tot)
for k, n in thr.most_common(): print("thread %-16s %5.1f %%" % (k, 100.0 * n / tot))
for (k, c), n in cat.most_common(25): print("%-14s %-30s %5.1f %%" % (k, c, 100.0 * n / tot))
