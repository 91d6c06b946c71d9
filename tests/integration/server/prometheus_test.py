#!/usr/bin/python3
"""bwfloor-server's /metrics and /healthcheck (issue 17), scraped by a real Prometheus (Debian's
`prometheus`), on the real binary over HTTP, SQLite in a temporary directory:

  metrics      the text format as Prometheus reads it: after a provider with an inventory and
               an allocation, PromQL through Prometheus's HTTP API returns the capacity and the
               usage of the class, and counts the requests made by route and status
  healthcheck  GET answers 200 "OK", HEAD 204 (oslo.middleware's healthcheck)

Prints PASS/FAIL per check; exit 1 if any failed. Processes and files go at exit.

  /usr/bin/python3 tests/integration/server/prometheus_test.py --bin build/bin
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, failures, free_port  # noqa: E402

RP = "0f2b6b4e-6f0c-4b57-9d0e-6f2b0c1d2e3f"
EGRESS = "NET_BW_EGR_KILOBIT_PER_SEC"


def call(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
                                 headers={"X-Auth-Token": "admin", "Accept": "application/json",
                                          "Content-Type": "application/json",
                                          "OpenStack-API-Version": "placement 1.39"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def promql(port, query):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (port, urllib.parse.urlencode({"query": query}))
    with urllib.request.urlopen(url, timeout=10) as resp:
        result = json.load(resp)["data"]["result"]
    return [float(r["value"][1]) for r in result]


def wait_until(what, seconds, fn):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            value = fn()
            if value:
                return value
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    return check(False, what, "not within %d s" % seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--prometheus", default="/usr/bin/prometheus")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bwfloor-prometheus-")
    procs = []
    try:
        port, prom_port = free_port(), free_port()
        config = os.path.join(work, "server.ini")
        with open(config, "w") as f:
            f.write("[api]\nbind = 127.0.0.1:%d\n[placement_database]\nconnection = sqlite:///%s\n"
                    % (port, os.path.join(work, "placement.db")))
        procs.append(subprocess.Popen([os.path.join(args.bin, "bwfloor-server"), "--config",
                                       config], stdout=open(os.path.join(work, "server.log"), "w"),
                                      stderr=subprocess.STDOUT))
        if not wait_until("the server starts", 15, lambda: call(port, "GET", "/placement/")[0]
                          == 200):
            return 1
        status, body = call(port, "GET", "/healthcheck")
        check(status == 200 and body == "OK", "GET /healthcheck answers 200 OK", body)
        check(call(port, "HEAD", "/healthcheck")[0] == 204, "HEAD /healthcheck answers 204")

        check(call(port, "POST", "/placement/resource_providers",
                   {"name": "compute0:br-test", "uuid": RP})[0] == 200, "provider created")
        check(call(port, "PUT", "/placement/resource_providers/%s/inventories" % RP,
                   {"resource_provider_generation": 0,
                    "inventories": {EGRESS: {"total": 10000, "reserved": 1000}}})[0] == 200,
              "inventory set")
        check(call(port, "PUT", "/placement/allocations/aaaaaaaa-0000-4000-8000-000000000001",
                   {"allocations": {RP: {"resources": {EGRESS: 2500}}}, "project_id": "p",
                    "user_id": "u", "consumer_generation": None,
                    "consumer_type": "INSTANCE"})[0] == 204, "allocation made")
        for _ in range(3):
            call(port, "GET", "/placement/resource_providers/00000000-0000-4000-8000-00000000dead")

        status, text = call(port, "GET", "/metrics")
        check(status == 200 and "# TYPE bwfloor_http_requests_total counter" in text,
              "GET /metrics answers the text format", text[:300])

        prom_config = os.path.join(work, "prometheus.yml")
        with open(prom_config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                    "  - job_name: bwfloor-server\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % port)
        procs.append(subprocess.Popen(
            [args.prometheus, "--config.file=" + prom_config,
             "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % prom_port],
            stdout=open(os.path.join(work, "prometheus.log"), "w"), stderr=subprocess.STDOUT))
        if not wait_until("Prometheus scrapes the server (up == 1)", 60,
                          lambda: promql(prom_port, 'up{job="bwfloor-server"}') == [1.0]):
            return 1
        usage = wait_until("PromQL: the class's usage", 30, lambda: promql(
            prom_port, 'bwfloor_resource_usage{resource_class="%s"}' % EGRESS))
        check(usage == [2500.0], "PromQL: usage of %s is 2500" % EGRESS, str(usage))
        capacity = promql(prom_port, 'bwfloor_resource_capacity{resource_class="%s"}' % EGRESS)
        check(capacity == [9000.0], "PromQL: capacity is total - reserved = 9000", str(capacity))
        missing = promql(prom_port, 'sum(bwfloor_http_requests_total{route='
                         '"/placement/resource_providers/{id}",method="GET",code="404"})')
        check(missing == [3.0], "PromQL: the 3 lookups of a missing provider, as 404s",
              str(missing))
        commits = promql(prom_port, "bwfloor_store_commit_seconds_count")
        check(commits == [3.0], "PromQL: 3 store commits (provider, inventory, allocation)",
              str(commits))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if failures():
            for name in ("server.log", "prometheus.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    print("--- %s\n%s" % (name, open(path).read()[-2000:]))
        shutil.rmtree(work, ignore_errors=True)
    print("%d check(s) failed" % len(failures()) if failures() else "all checks passed")
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
