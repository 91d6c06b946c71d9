#!/usr/bin/python3
"""bwfloor-server on PostgreSQL 15 (issue 16), the real binary over HTTP, with a throwaway
cluster (pgcluster.py):

  config     --check-config accepts a postgresql:// connection (password masked) and explains a
             bad one (no database, an unknown option, another engine)
  claims     32 concurrent clients claim 100 each on a 1000 provider: exactly 10 succeed, usage =
             sum of allocations = 1000
  durable    kill -9, restart: providers, usages, allocations and /v1 objects are as acknowledged
  replicas   3 replicas on the database, 32 concurrent claimers spread over them until the
             capacity runs out, one replica killed -9 in the middle and restarted: 0
             over-allocations, 0 acknowledged claims lost, usage = sum of allocations on every
             replica, the restarted one caught up; a /v1 object made on one is seen on the others
  lag bound  the database down: after max_replica_lag a replica refuses reads (503, with the
             reason) instead of serving what it can no longer show is current; the database
             back: it answers again and a write made meanwhile elsewhere is there

Prints PASS/FAIL per check; exit 1 if any failed.

  /usr/bin/python3 tests/integration/pg/server_on_postgres_test.py --server build/bin/bwfloor-server
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgcluster import PgCluster  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, failures, free_port  # noqa: E402

RP = "11111111-2222-4333-8444-555555555555"


def call(port, method, path, body=None, version="1.39"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-Auth-Token": "admin", "Accept": "application/json",
               "OpenStack-API-Version": "placement " + version}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    return resp.status, (json.loads(raw) if raw else None)


class Server:
    def __init__(self, binary, workdir, url, port=None):
        self.port = port or free_port()
        self.config = os.path.join(workdir, "server-%d.ini" % self.port)
        with open(self.config, "w") as f:
            f.write("[api]\nbind = 127.0.0.1:%d\n[placement_database]\nconnection = %s\n"
                    "max_replica_lag = 2\n" % (self.port, url))
        self.binary = binary
        self.log = os.path.join(workdir, "server-%d.log" % self.port)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--config", self.config],
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if call(self.port, "GET", "/placement/")[0] == 200:
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def claim_until_full(ports, index, acknowledged, statuses, lock):
    """One claimer: claims of 100 on replica index % 3 (the next one when it does not answer)
    until the provider is full."""
    turn = index
    while True:
        consumer = str(uuid.uuid4())
        body = {"allocations": {RP: {"resources": {"NET_BW_EGR_KILOBIT_PER_SEC": 100}}},
                "project_id": "p", "user_id": "u", "consumer_generation": None,
                "consumer_type": "INSTANCE"}
        for attempt in range(len(ports) * 3):
            port = ports[(turn + attempt) % len(ports)]
            try:
                st, reply = call(port, "PUT", "/placement/allocations/" + consumer, body)
            except OSError:
                continue  # that replica is down: fail over
            break
        else:
            with lock:
                statuses.append("no replica answered")
            return
        with lock:
            statuses.append(st)
            if st == 204:
                acknowledged.append(consumer)
        if st == 409 and "capacity" in json.dumps(reply):
            return
        if st not in (204, 409):
            return
        turn += 1


def state(port):
    _, usages = call(port, "GET", "/placement/resource_providers/%s/usages" % RP)
    _, allocs = call(port, "GET", "/placement/resource_providers/%s/allocations" % RP)
    _, nets = call(port, "GET", "/v1/networks")
    return {"usages": usages["usages"], "consumers": sorted(allocs["allocations"]),
            "networks": sorted(n["name"] for n in nets["networks"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    args = parser.parse_args()
    binary = os.path.abspath(args.server)
    workdir = tempfile.mkdtemp(prefix="bwfloor-server-pg-")
    servers = []
    try:
        with PgCluster() as pg:
            # Configuration.
            def check_config(connection):
                path = os.path.join(workdir, "check.ini")
                with open(path, "w") as f:
                    f.write("[placement_database]\nconnection = %s\n" % connection)
                return subprocess.run([binary, "--check-config", path], capture_output=True,
                                      text=True)
            r = check_config("postgresql://bwfloor:s3cret@db.example:5432/placement")
            check(r.returncode == 0 and "postgresql://bwfloor:***@db.example:5432/placement"
                  in r.stdout and "s3cret" not in r.stdout,
                  "--check-config accepts postgresql:// and masks the password", r.stdout + r.stderr)
            for bad, says in (("postgresql://bwfloor:s3cret@db.example:5432", "no database name"),
                              ("postgresql://u@db/placement?colour=red", "colour"),
                              ("mysql+pymysql://u@db/placement", "is not SQLite")):
                r = check_config(bad)
                check(r.returncode != 0 and says in r.stderr and "s3cret" not in r.stderr,
                      "--check-config explains %s" % bad, r.stderr)

            server = Server(binary, workdir, pg.url)
            servers.append(server)
            if not check(server.start(), "the server starts on PostgreSQL"):
                return 1
            status, _ = call(server.port, "POST", "/placement/resource_providers",
                             {"name": "pg-host", "uuid": RP})
            check(status == 200, "provider created", str(status))
            status, _ = call(server.port, "PUT", "/placement/resource_providers/%s/inventories" % RP,
                             {"resource_provider_generation": 0,
                              "inventories": {"NET_BW_EGR_KILOBIT_PER_SEC": {"total": 1000}}})
            check(status == 200, "inventory set", str(status))
            status, _ = call(server.port, "POST", "/v1/networks",
                             {"name": "net0", "physnet": "physnet0"})
            check(status == 201, "a /v1 network created", str(status))

            # 32 concurrent claimers of 100 on 1000.
            results = []
            lock = threading.Lock()

            def claim():
                consumer = str(uuid.uuid4())
                st, _ = call(server.port, "PUT", "/placement/allocations/" + consumer, {
                    "allocations": {RP: {"resources": {"NET_BW_EGR_KILOBIT_PER_SEC": 100}}},
                    "project_id": "p", "user_id": "u", "consumer_generation": None,
                    "consumer_type": "INSTANCE"})
                with lock:
                    results.append(st)
            threads = [threading.Thread(target=claim) for _ in range(32)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            before = state(server.port)
            check(results.count(204) == 10 and all(s in (204, 409) for s in results),
                  "32 concurrent claims: exactly 10 of 100 fit in 1000",
                  "statuses %s" % sorted(results))
            check(before["usages"].get("NET_BW_EGR_KILOBIT_PER_SEC") == 1000 and
                  len(before["consumers"]) == 10, "usage = sum of allocations = 1000", str(before))

            # kill -9 and restart: what was acknowledged is there.
            server.kill()
            check(server.start(), "the server restarts after kill -9")
            after = state(server.port)
            check(after == before, "after kill -9 the state is as acknowledged",
                  "%s != %s" % (after, before))

            # Replicas: three servers on the database, 32 claimers spread over them until the
            # provider is full, one killed -9 halfway and restarted.
            status, rp = call(server.port, "GET", "/placement/resource_providers/" + RP)
            status, _ = call(server.port, "PUT", "/placement/resource_providers/%s/inventories" % RP,
                             {"resource_provider_generation": rp["generation"],
                              "inventories": {"NET_BW_EGR_KILOBIT_PER_SEC": {"total": 20000}}})
            check(status == 200, "inventory raised to 20000 for the replica run", str(status))
            replicas = [server, Server(binary, workdir, pg.url), Server(binary, workdir, pg.url)]
            servers.extend(replicas[1:])
            check(all(r.start() for r in replicas[1:]), "two more replicas start on the database")
            ports = [r.port for r in replicas]
            acknowledged, statuses = [], []
            lock = threading.Lock()
            claimers = [threading.Thread(target=claim_until_full,
                                         args=(ports, i, acknowledged, statuses, lock))
                        for i in range(32)]
            for t in claimers:
                t.start()
            # Kill the third replica once about half the capacity is claimed, then restart it.
            deadline = time.time() + 60
            while time.time() < deadline and len(acknowledged) < 95:
                time.sleep(0.01)
            killed_at = len(acknowledged)
            replicas[2].kill()
            check(replicas[2].start(), "the killed replica restarts under load")
            for t in claimers:
                t.join()
            check(50 < killed_at < 190, "a replica was killed mid-load",
                  "%d claims acknowledged then" % killed_at)
            check(all(s in (204, 409) for s in statuses), "every claim answered 204 or 409",
                  str(sorted(set(map(str, statuses)))))
            # Every replica converges to the same state within the lag bound. A claim the killed
            # replica committed without answering exists unacknowledged; none acknowledged is
            # missing, and the provider ends exactly full: 200 claims of 100 in 20000.
            want = set(acknowledged) | set(before["consumers"])
            converged = {}
            t0 = time.time()
            while time.time() - t0 < 5:
                converged = {r.port: state(r.port) for r in replicas}
                if len({json.dumps(s, sort_keys=True) for s in converged.values()}) == 1:
                    break
                time.sleep(0.05)
            check(len({json.dumps(s, sort_keys=True) for s in converged.values()}) == 1,
                  "the three replicas converge to one state", str(converged)[:400])
            for r in replicas:
                s = converged[r.port]
                held = set(s["consumers"])
                check(want <= held, "replica %d holds every acknowledged claim" % r.port,
                      "%d of %d" % (len(held & want), len(want)))
                check(len(held) == 200 and
                      s["usages"].get("NET_BW_EGR_KILOBIT_PER_SEC") == 100 * len(held) == 20000,
                      "replica %d: full, usage = sum of allocations = capacity" % r.port,
                      "%d consumers, %s" % (len(held), s["usages"]))
            # A /v1 object made on one replica is seen on the others.
            status, _ = call(ports[1], "POST", "/v1/networks", {"name": "net1", "physnet": "p1"})
            check(status == 201, "a network created on replica 2", str(status))
            t0 = time.time()
            while time.time() - t0 < 5 and not all(
                    "net1" in state(p)["networks"] for p in (ports[0], ports[2])):
                time.sleep(0.02)
            check(all("net1" in state(p)["networks"] for p in (ports[0], ports[2])),
                  "replicas 1 and 3 see it", "after %.2f s" % (time.time() - t0))
            status, body = call(ports[2], "POST", "/v1/networks", {"name": "net1", "physnet": "p1"})
            check(status == 409, "creating it again on replica 3 is refused", str(status))

            # The lag bound: with the database down a replica cannot show it is current; after
            # max_replica_lag (2 s here) it refuses reads with the reason.
            pg.stop()
            t0 = time.time()
            status, body = call(ports[0], "GET", "/placement/resource_providers/" + RP)
            check(status == 200, "just after the database went down, reads are still served",
                  str(status))
            while time.time() - t0 < 10 and status == 200:
                status, body = call(ports[0], "GET", "/placement/resource_providers/" + RP)
                time.sleep(0.1)
            waited = time.time() - t0
            detail = json.dumps(body)
            check(status == 503 and "max_replica_lag" in detail and 0.5 < waited < 4,
                  "after max_replica_lag the replica refuses reads, saying why",
                  "%s after %.1f s: %s" % (status, waited, detail[:300]))
            pg.start()
            t0 = time.time()
            while time.time() - t0 < 15 and call(ports[0], "GET", "/placement/")[0] != 200:
                time.sleep(0.1)
            status, _ = call(ports[1], "POST", "/v1/networks", {"name": "net2", "physnet": "p2"})
            check(status == 201, "the database back, a write through replica 2", str(status))
            t0 = time.time()
            while time.time() - t0 < 5 and "net2" not in state(ports[0])["networks"]:
                time.sleep(0.05)
            check("net2" in state(ports[0])["networks"],
                  "replica 1 answers again and has it", "after %.1f s" % (time.time() - t0))
    finally:
        for s in servers:
            s.kill()
        if failures():
            for name in sorted(os.listdir(workdir)):
                if name.endswith(".log"):
                    print("--- %s\n%s" % (name, open(os.path.join(workdir, name)).read()[-2000:]))
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d check(s) failed" % len(failures()) if failures() else "all checks passed")
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
