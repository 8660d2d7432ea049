# Conservative reachability over a jar's classes: edges = constant-pool class refs, descriptor types,
# strings naming a class, strings naming a package prefix (every class of it). Roots: river/**, services, Main.
import zipfile, struct, re, sys, collections
z = zipfile.ZipFile(sys.argv[1])
def base(n):
    m = re.match(r'META-INF/versions/\d+/(.*)', n); return m.group(1) if m else n
classes = collections.defaultdict(list)   # internal name -> entry names (base + versions)
for n in z.namelist():
    if n.endswith('.class'): classes[base(n)[:-6]].append(n)
pkgs = collections.defaultdict(set)
for c in classes: pkgs[c.rsplit('/',1)[0] if '/' in c else ''].add(c)
DESC = re.compile(r'L([A-Za-z_$][\w$/]*);')
def refs(data):
    out = set(); strings = []
    cnt = struct.unpack('>H', data[8:10])[0]; i = 10; k = 1; utf = {}; cls = []; strs = []
    while k < cnt:
        t = data[i]
        if t == 1:
            l = struct.unpack('>H', data[i+1:i+3])[0]; utf[k] = data[i+3:i+3+l].decode('utf-8','replace'); i += 3+l
        elif t in (7, 8, 16, 19, 20):
            idx = struct.unpack('>H', data[i+1:i+3])[0]; (cls if t==7 else strs if t==8 else []).append(idx); i += 3
        elif t == 15: i += 4
        elif t in (3,4,9,10,11,12,17,18): i += 5
        elif t in (5,6): i += 9; k += 1
        else: raise ValueError(t)
        k += 1
    for idx in cls:
        s = utf.get(idx, ''); s = s.lstrip('[')
        if s.startswith('L') and s.endswith(';'): s = s[1:-1]
        out.add(s)
    for s in utf.values():
        for m in DESC.finditer(s): out.add(m.group(1))
    for idx in strs: strings.append(utf.get(idx, ''))
    return out, strings
edges = {}; pkgrefs = {}
for c, ents in classes.items():
    o = set(); p = set()
    for e in ents:
        r, strs = refs(z.read(e)); o |= r
        for s in strs:
            s2 = s.replace('.', '/')
            if s2 in classes: o.add(s2)
            elif s.endswith('.') and s2.rstrip('/') in pkgs: p.add(s2.rstrip('/'))
            elif s2 in pkgs: p.add(s2)
    edges[c] = o; pkgrefs[c] = p
roots = {c for c in classes if c.startswith('river/')}
for n in z.namelist():
    if n.startswith('META-INF/services/') and not n.endswith('/'):
        for line in z.read(n).decode().splitlines():
            line = line.split('#')[0].strip()
            if line: roots.add(line.replace('.', '/'))
        roots.add(n.split('/')[-1].replace('.', '/'))
seen = set(); stack = [r for r in roots if r in classes]
while stack:
    c = stack.pop()
    if c in seen: continue
    seen.add(c)
    nxt = set(edges[c])
    for p in pkgrefs[c]: nxt |= pkgs[p]
    # an inner/outer class is loaded with its nest: keep the outer of a reached inner class
    if '$' in c: nxt.add(c.split('$')[0])
    stack.extend(x for x in nxt if x in classes and x not in seen)
unreached = [c for c in classes if c not in seen]
entries = sum(len(classes[c]) for c in unreached)
print('classes', len(classes), 'reached', len(seen), 'unreached', len(unreached), 'entries', entries)
grp = collections.Counter('/'.join(c.split('/')[:3]) for c in unreached)
for g, n in grp.most_common(40): print(n, g)
open(sys.argv[2], 'w').write('\n'.join(sorted(unreached)) + '\n')
