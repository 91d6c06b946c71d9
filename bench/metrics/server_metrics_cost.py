#!/usr/bin/env python3
"""The cost of the server's /metrics: request latency with and without a 1 s scrape.

bwfloor-server (SQLite, a throwaway directory) with HOSTS hosts (a root and a br-test child with
bandwidth inventories each, one allocation on every other), then, in one run:
  - GET allocation_candidates (the scheduler's hot read) and GET /v1/ports, REQUESTS times each,
    sequentially, without anything scraping;
  - the same while a thread GETs /metrics every second (as Prometheus would);
  - the time one /metrics answer takes, and its size.
Prints the figures and the with/without ratios. Not a test.

  /usr/bin/python3 bench/metrics/server_metrics_cost.py --bin build/bin [--hosts 1000]
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from testlib import free_port  # noqa: E402

EGRESS = "NET_BW_EGR_KILOBIT_PER_SEC"
INGRESS = "NET_BW_IGR_KILOBIT_PER_SEC"
HEADERS = {"X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
           "Content-Type": "application/json", "Accept": "application/json"}


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None):
        self.conn.request(method, path, None if body is None else json.dumps(body), HEADERS)
        resp = self.conn.getresponse()
        data = resp.read()
        return resp.status, data


def load(client, hosts):
    for i in range(hosts):
        root, dev = str(uuid.uuid4()), str(uuid.uuid4())
        assert client.call("POST", "/placement/resource_providers",
                           {"name": "host%d" % i, "uuid": root})[0] == 200
        assert client.call("POST", "/placement/resource_providers",
                           {"name": "host%d:Open vSwitch agent:br-test" % i, "uuid": dev,
                            "parent_provider_uuid": root})[0] == 200
        assert client.call("PUT", "/placement/resource_providers/%s/inventories" % dev,
                           {"resource_provider_generation": 0,
                            "inventories": {EGRESS: {"total": 10000}, INGRESS: {"total": 10000}}}
                           )[0] == 200
        if i % 2 == 0:
            assert client.call("PUT", "/placement/allocations/%s" % uuid.uuid4(),
                               {"allocations": {dev: {"resources": {EGRESS: 1000, INGRESS: 1000}}},
                                "project_id": "p", "user_id": "u", "consumer_generation": None,
                                "consumer_type": "INSTANCE"}
                               )[0] == 204


def timed(client, path, n):
    out = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = client.call("GET", path)
        out.append((time.perf_counter() - start) * 1000)
        assert status == 200, path
    return out


def summary(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="bwfloor-metrics-cost-")
    port = free_port()
    config = os.path.join(work, "server.ini")
    with open(config, "w") as f:
        f.write("[api]\nbind = 127.0.0.1:%d\n[placement_database]\nconnection = sqlite:///%s\n"
                % (port, os.path.join(work, "placement.db")))
    server = subprocess.Popen([os.path.join(args.bin, "bwfloor-server"), "--config", config],
                              stdout=open(os.path.join(work, "server.log"), "w"),
                              stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                Client(port).call("GET", "/placement/")
                break
            except OSError:
                time.sleep(0.1)
        client = Client(port)
        load(client, args.hosts)
        paths = {"allocation_candidates": "/placement/allocation_candidates?resources=%s:1000,"
                                          "%s:1000&limit=100" % (EGRESS, INGRESS),
                 "GET /v1/ports": "/v1/ports"}
        scraper = Client(port)
        scrape_ms = timed(scraper, "/metrics", 50)
        size = len(scraper.call("GET", "/metrics")[1])
        for path in paths.values():
            timed(client, path, 20)  # warm-up
        quiet = {name: timed(client, path, args.requests) for name, path in paths.items()}
        stop = threading.Event()

        def scrape():
            while not stop.wait(1.0):
                scraper.call("GET", "/metrics")
        thread = threading.Thread(target=scrape)
        thread.start()
        scraped = {name: timed(client, path, args.requests) for name, path in paths.items()}
        stop.set()
        thread.join()
        print("bwfloor-server, SQLite, %d hosts (%d providers), %d requests each, sequential"
              % (args.hosts, 2 * args.hosts, args.requests))
        med, p99 = summary(scrape_ms)
        print("  one /metrics answer: median %.2f ms, p99 %.2f ms, %d bytes" % (med, p99, size))
        for name in paths:
            qm, q99 = summary(quiet[name])
            sm, s99 = summary(scraped[name])
            print("  %-22s median %.2f ms -> %.2f ms with a 1 s scrape (x%.2f); p99 %.2f -> %.2f "
                  "ms (x%.2f)" % (name, qm, sm, sm / qm, q99, s99, s99 / q99))
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
