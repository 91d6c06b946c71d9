#!/usr/bin/python3
"""Tables for bench/candidates/run.sh: reads DIR/{real,bwfloor}-N[-setup].json
(bench_placement.py), DIR/bwfloor-N.rss[-setup], DIR/wide-{real,bwfloor}.json and prints
markdown: candidates latency per variant (median / p99, real / bwfloor ratio), claims/s and the
capacity check, bwfloor's RSS after the setup and at the end, the wide-tree check, the load
average along the run (DIR/load.txt) and the targets.

  /usr/bin/python3 bench/candidates/report.py DIR
"""

import glob
import json
import os
import re
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(d, *path):
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def fmt(x, digits=1):
    return '-' if x is None else ('%.*f' % (digits, x))


def ratio(a, b):
    return a / b if a and b else None


def main():
    out = sys.argv[1]
    runs = {}
    for path in glob.glob(os.path.join(out, '*-*.json')):
        m = re.match(r'(real|bwfloor)-(\d+)\.json$', os.path.basename(path))
        if m:
            runs.setdefault(int(m.group(2)), {})[m.group(1)] = load(path)
    targets = []
    for n in sorted(runs):
        real, ours = runs[n].get('real'), runs[n].get('bwfloor')
        setup = {k: load(os.path.join(out, '%s-%d-setup.json' % (k, n))) or runs[n].get(k)
                 for k in ('real', 'bwfloor')}
        any_doc = ours or real
        print('\n### %d hosts (%d providers), microversion %s, limit=%s\n' % (
            n, 7 * n, get(any_doc, 'microversion'), get(any_doc, 'params', 'limit')))
        print('| variant | candidates | real median ms | real p99 ms | bwfloor median ms '
              '| bwfloor p99 ms | real/bwfloor (median) |')
        print('|---|---|---|---|---|---|---|')
        variants = sorted(set(get(real, 'allocation_candidates') or {}) |
                          set(get(ours, 'allocation_candidates') or {}))
        for v in variants:
            r = get(real, 'allocation_candidates', v) or {}
            o = get(ours, 'allocation_candidates', v) or {}
            x = ratio(r.get('median_ms'), o.get('median_ms'))
            print('| %s | %s | %s | %s | %s | %s | %s |' % (
                v, o.get('candidates', r.get('candidates')), fmt(r.get('median_ms')),
                fmt(r.get('p99_ms')), fmt(o.get('median_ms'), 2), fmt(o.get('p99_ms'), 2),
                fmt(x) + 'x' if x else '-'))
            if n == 1000 and v == 'vm_bw':
                targets.append(('N=1000 vm_bw (no limit) candidates median >= 50x lower',
                                x is not None and x >= 50, fmt(x) + 'x' if x else '-'))
            if n == 10000 and v.endswith('_limit1000'):
                med = o.get('median_ms')
                targets.append(('N=10000 %s median < 50 ms' % v,
                                med is not None and med < 50, fmt(med, 2) + ' ms'))
        rc, oc = get(real, 'claim') or {}, get(ours, 'claim') or {}
        x = ratio(oc.get('claims_per_s'), rc.get('claims_per_s'))
        print('\n| | real | bwfloor | bwfloor/real |\n|---|---|---|---|')
        print('| claims/s (%s clients, %s claimable hosts) | %s | %s | %s |' % (
            oc.get('clients', rc.get('clients')), oc.get('claimable_hosts',
                                                         rc.get('claimable_hosts')),
            fmt(rc.get('claims_per_s')), fmt(oc.get('claims_per_s')),
            fmt(x) + 'x' if x else '-'))
        print('| successful claims / expected capacity | %s / %s | %s / %s | |' % (
            rc.get('successful_claims'), rc.get('expected_capacity_claims'),
            oc.get('successful_claims'), oc.get('expected_capacity_claims')))
        print('| 409 conflicts | %s | %s | |' % (rc.get('conflicts_409'),
                                                 oc.get('conflicts_409')))
        print('| check (no over-allocation, usages == claims) | %s | %s | |' % (
            get(real, 'check', 'ok'), get(ours, 'check', 'ok')))
        print('| setup wall s (%s requests) | %s | %s | |' % (
            get(setup['bwfloor'], 'setup', 'requests') or get(setup['real'], 'setup', 'requests'),
            get(setup['real'], 'setup', 'wall_s'), get(setup['bwfloor'], 'setup', 'wall_s')))
        rss = {}
        for suffix in ('-setup', ''):
            try:
                with open(os.path.join(out, 'bwfloor-%d.rss%s' % (n, suffix))) as f:
                    rss[suffix] = f.read().strip()
            except OSError:
                pass
        print('| bwfloor-server VmRSS after the setup | | %s | |' % rss.get('-setup', '-'))
        print('| bwfloor-server VmRSS at the end | | %s | |' % rss.get('', '-'))
        rss = rss.get('')
        if n == 1000:
            targets.append(('N=1000 claim throughput >= 20x higher', x is not None and x >= 20,
                            fmt(x) + 'x' if x else '-'))
        if n == 10000 and rss:
            kb = int(rss.split()[0])
            targets.append(('N=10000 bwfloor RSS < 200 MB', kb < 200 * 1024,
                            '%.0f MB' % (kb / 1024)))
        for label, doc in (('real', real), ('bwfloor', ours)):
            if doc and get(doc, 'check', 'ok') is False:
                targets.append(('%s N=%d capacity check' % (label, n), False, 'failed'))
    wide = {k: load(os.path.join(out, 'wide-%s.json' % k)) for k in ('real', 'bwfloor')}
    if any(wide.values()):
        print('\n### Wide tree: 1 root, 8 children x 1 unit, 8 groups, isolate, limit=1000\n')
        print('| server | candidates | median ms | p99 ms | timed out (s) | error |')
        print('|---|---|---|---|---|---|')
        for k, w in wide.items():
            if not w:
                continue
            print('| %s | %s | %s | %s | %s | %s |' % (
                k, w.get('candidates'), fmt(w.get('median_ms'), 2), fmt(w.get('p99_ms'), 2),
                w.get('timeout_s') if w.get('timed_out') else 'no', w.get('error') or ''))
        w = wide.get('bwfloor') or {}
        targets.append(('wide tree limit=1000 < 100 ms (bwfloor)',
                        w.get('median_ms') is not None and w['median_ms'] < 100,
                        fmt(w.get('median_ms'), 2) + ' ms'))
    try:
        with open(os.path.join(out, 'load.txt')) as f:
            print('\n### Load average (2 cores; other builds may share the machine)\n')
            for line in f:
                print('    ' + line.rstrip())
    except OSError:
        pass
    if targets:
        print('\n### Targets\n\n| target | met | figure |\n|---|---|---|')
        for label, ok, figure in targets:
            print('| %s | %s | %s |' % (label, 'yes' if ok else 'NO', figure))


if __name__ == '__main__':
    main()
