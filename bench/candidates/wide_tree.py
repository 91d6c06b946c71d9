#!/usr/bin/python3
"""Wide-tree allocation candidates check (LP 2126751), against any Placement endpoint.

Builds one compute root with --children child providers, each with 1 unit of a custom resource
class (a PCI-like device), then times

    GET /allocation_candidates?resources1=CUSTOM_WIDE_DEV:1&...&resourcesG=CUSTOM_WIDE_DEV:1
        &group_policy=isolate&limit=L                                  (microversion 1.36)

With 8 children and 8 groups there are 8^8 ~ 16.8M combinations of which 8! = 40320 are valid:
an engine that generates every combination before applying the limit does not answer in
reasonable time. Each request gets --timeout seconds; a timed-out request ends the sampling
(the server may keep computing it: stop that server afterwards).

Standard library only. Prints one JSON document (and writes it to --out):
  {"children", "groups", "limit", "samples", "median_ms", "p99_ms", "max_ms", "candidates",
   "timed_out", "error"}

  /usr/bin/python3 bench/candidates/wide_tree.py --url http://127.0.0.1:18779/placement
"""

import argparse
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.parse
import uuid

RC = 'CUSTOM_WIDE_DEV'


class Client(object):
    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip('/')
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, version='1.39'):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {'Accept': 'application/json', 'X-Auth-Token': 'admin',
                   'OpenStack-API-Version': 'placement %s' % version}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        t0 = time.perf_counter()
        try:
            self.conn.request(method, self.prefix + path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        elapsed = time.perf_counter() - t0
        return resp.status, (json.loads(raw) if raw else None), elapsed


def expect(result, ok, what):
    status, body, _ = result
    if status not in ok:
        raise RuntimeError('%s -> HTTP %s %s' % (what, status, json.dumps(body)[:300]))
    return body


def build(c, children, run_id):
    expect(c.request('PUT', '/resource_classes/%s' % RC), (201, 204), 'resource class')
    root = str(uuid.uuid5(uuid.NAMESPACE_URL, '%s/root' % run_id))
    expect(c.request('POST', '/resource_providers',
                     {'name': 'wide-%s' % run_id[:8], 'uuid': root}), (200,), 'root')
    inv = {'VCPU': {'total': 8}}
    expect(c.request('PUT', '/resource_providers/%s/inventories' % root,
                     {'resource_provider_generation': 0, 'inventories': inv}), (200,), 'root inv')
    for i in range(children):
        u = str(uuid.uuid5(uuid.NAMESPACE_URL, '%s/dev%d' % (run_id, i)))
        expect(c.request('POST', '/resource_providers',
                         {'name': 'wide-%s-dev%d' % (run_id[:8], i), 'uuid': u,
                          'parent_provider_uuid': root}), (200,), 'child')
        inv = {RC: {'total': 1, 'max_unit': 1}}
        expect(c.request('PUT', '/resource_providers/%s/inventories' % u,
                         {'resource_provider_generation': 0, 'inventories': inv}),
               (200,), 'child inv')


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--url', required=True)
    p.add_argument('--children', type=int, default=8)
    p.add_argument('--groups', type=int, default=8)
    p.add_argument('--limit', type=int, default=1000)
    p.add_argument('--policy', default='isolate', choices=('isolate', 'none'))
    p.add_argument('--samples', type=int, default=20)
    p.add_argument('--timeout', type=float, default=60)
    p.add_argument('--out')
    args = p.parse_args()

    c = Client(args.url, args.timeout)
    build(c, args.children, uuid.uuid4().hex)
    q = {'resources%d' % (i + 1): '%s:1' % RC for i in range(args.groups)}
    q['group_policy'] = args.policy
    q['limit'] = str(args.limit)
    path = '/allocation_candidates?' + urllib.parse.urlencode(q, safe=',:')
    result = {'children': args.children, 'groups': args.groups, 'limit': args.limit,
              'policy': args.policy, 'timeout_s': args.timeout, 'timed_out': False,
              'error': None, 'samples': 0, 'candidates': None}
    lat = []
    try:
        for _ in range(args.samples + 1):  # the first one warms up, not counted
            status, body, dt = c.request('GET', path, version='1.36')
            if status != 200:
                raise RuntimeError('HTTP %s %s' % (status, json.dumps(body)[:300]))
            result['candidates'] = len(body['allocation_requests'])
            lat.append(dt)
    except (socket.timeout, TimeoutError):
        result['timed_out'] = True
    except Exception as exc:  # noqa: a failed check is reported, not raised
        result['error'] = repr(exc)[:300]
    lat = lat[1:]
    if lat:
        s = sorted(lat)
        result.update(samples=len(s), median_ms=round(1000 * statistics.median(s), 3),
                      p99_ms=round(1000 * s[min(len(s) - 1, int(0.99 * len(s)))], 3),
                      max_ms=round(1000 * s[-1], 3))
    doc = json.dumps(result, indent=2, sort_keys=True)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(doc + '\n')
    print(doc)


if __name__ == '__main__':
    sys.exit(main())
