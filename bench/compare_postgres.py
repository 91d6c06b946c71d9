#!/usr/bin/python3
"""Placement on PostgreSQL: the real OpenStack Placement 8.0 (2 uwsgi workers) vs bwfloor-server
as 1 and as 2 replicas, in one run, on one throwaway PostgreSQL 15 cluster
(tests/integration/pg/pgcluster.py), one database each, never two systems at once. Prints the key
figures and the ratios (bwfloor / real), and the replication lag between two bwfloor replicas;
the JSON results and logs stay in --out.

  /usr/bin/python3 bench/compare_postgres.py [--hosts 1000] [--claim-clients 16] [--out DIR]

With 2 replicas the driver (bench_placement.py) sets up through the first, then two drivers run
the candidates and claim phases at once, one per replica, with half the claim clients each:
claims/s is their sum, latencies are the first replica's. Lag: a provider created on one replica,
the time until the other answers it (each sample includes one HTTP round trip to each).

Needs python3-placement uwsgi-core uwsgi-plugin-python3 python3-psycopg2 (apt-get) and
../shared/bench (real_placement.sh, bench_placement.py).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "pg"))
from pgcluster import PgCluster  # noqa: E402


def wait_http(url, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    return False


def driver(shared, url, args, out, extra=(), clients=None):
    return ["/usr/bin/python3", os.path.join(shared, "bench", "bench_placement.py"), "--url", url,
            "--hosts", str(args.hosts), "--claim-concurrency", str(clients or args.claim_clients),
            "--claim-time", str(args.claim_time), "--out", out, "--quiet"] + list(extra)


def bench(shared, url, args, out):
    subprocess.run(driver(shared, url, args, out), check=True, timeout=3600)
    with open(out) as f:
        return json.load(f)


def bench_two(shared, urls, args, out_dir):
    """Setup through the first replica, then both drivers at once (same --run-id: same uuids)."""
    run_id = "bench-%d" % os.getpid()
    setup = os.path.join(out_dir, "setup.json")
    subprocess.run(driver(shared, urls[0], args, setup, ["--run-id", run_id, "--phases", "setup"]),
                   check=True, timeout=3600)
    outs = [os.path.join(out_dir, "replica%d.json" % i) for i in (1, 2)]
    procs = [subprocess.Popen(driver(shared, url, args, out,
                                     ["--run-id", run_id, "--phases", "ac,claim,check"],
                                     clients=args.claim_clients // 2))
             for url, out in zip(urls, outs)]
    # Exit 3 is the driver's own check failing. Each driver tallies only its own claims, so on
    # a provider both claimed on, each sees the other's as a mismatch: the check that holds is
    # that the two tallies add up to the usage (and that nothing is over-allocated).
    for p in procs:
        if p.wait(timeout=3600) not in (0, 3):
            raise SystemExit("a driver failed")
    results = []
    for out in outs:
        with open(out) as f:
            results.append(json.load(f))
    tallies, used = {}, {}
    for r in results:
        for m in r.get("check", {}).get("usage_tally_mismatch", []):
            key = (m["rp"], m["rc"])
            tallies[key] = tallies.get(key, 0) + m["client_tally"]
            used[key] = max(used.get(key, 0), m["server_used"])
    unexplained = [k for k in tallies if tallies[k] != used[k]]
    print("2 replicas: %d providers claimed on by both drivers, %d whose usage is not the sum "
          "of both drivers' claims" % (len(tallies), len(unexplained)))
    if unexplained:
        raise SystemExit("usage != the sum of the claims on %s" % unexplained[:3])
    merged = results[0]
    with open(setup) as f:
        merged["setup"] = json.load(f).get("setup", {})
    claims = [r.get("claim", {}) for r in results]
    merged["claim"]["claims_per_s"] = sum(c.get("claims_per_s", 0) for c in claims)
    merged["claim"]["successful_claims"] = sum(c.get("successful_claims", 0) for c in claims)
    merged["check"]["over_allocated_count"] = max(
        r.get("check", {}).get("over_allocated_count", 0) for r in results)
    merged["check"]["usage_not_sum_of_claims"] = len(unexplained)
    return merged


def request(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "X-Auth-Token": "admin", "OpenStack-API-Version": "placement 1.39",
        "Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code


def replication_lag(urls, samples=300):
    """Milliseconds from a provider's creation acknowledged by one replica to the other one
    answering it, alternating directions."""
    lags = []
    for i in range(samples):
        write, read = (urls[0], urls[1]) if i % 2 == 0 else (urls[1], urls[0])
        uuid = "%08x-0000-4000-8000-%012x" % (os.getpid() & 0xffffffff, i)
        if request(write + "/resource_providers", "POST", {"name": "lag-%s" % uuid,
                                                         "uuid": uuid}) != 200:
            raise SystemExit("lag probe: create failed")
        t0 = time.perf_counter()
        while request(read + "/resource_providers/" + uuid) != 200:
            if time.perf_counter() - t0 > 10:
                raise SystemExit("lag probe: not replicated within 10 s")
        lags.append((time.perf_counter() - t0) * 1000)
    lags.sort()
    return {"p50_ms": lags[len(lags) // 2], "p99_ms": lags[int(len(lags) * 0.99) - 1],
            "max_ms": lags[-1], "samples": len(lags)}


def start_bwfloor(args, pg, out, port):
    config = os.path.join(out, "bwfloor-%d.ini" % port)
    with open(config, "w") as f:
        f.write("[api]\nbind = 127.0.0.1:%d\n[placement_database]\nconnection = %s\n"
                % (port, pg.url_for("bwfloor")))
    log = open(os.path.join(out, "bwfloor-%d.log" % port), "w")
    server = subprocess.Popen([args.server, "--config", config], stdout=log,
                              stderr=subprocess.STDOUT)
    if not wait_http("http://127.0.0.1:%d/placement/" % port):
        server.terminate()
        raise SystemExit("bwfloor-server did not start; see %s" % log.name)
    return server


def figures(result):
    """The headline numbers, whatever the driver's JSON nests them under."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(prefix + "." + k if prefix else k, v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[prefix] = value
    walk("", result)
    return flat


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--claim-time", type=float, default=60)
    parser.add_argument("--claim-clients", type=int, default=16)
    parser.add_argument("--server", default=os.path.join(REPO, "build", "bin", "bwfloor-server"))
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"))
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    out = args.out or tempfile.mkdtemp(prefix="bwfloor-pg-bench-", dir="/var/tmp")
    os.makedirs(out, exist_ok=True)
    results = {}
    with PgCluster(database="real_placement") as pg:
        pg.createdb("bwfloor")
        # 1. The real Placement, 2 workers.
        real_dir = os.path.join(out, "real")
        env = dict(os.environ, PLACEMENT_DB_URL="postgresql+psycopg2://postgres@127.0.0.1:%d/"
                   "real_placement" % pg.port)
        script = os.path.join(args.shared, "bench", "real_placement.sh")
        subprocess.run([script, "start", real_dir, "18778", "2"], env=env, check=True)
        try:
            results["real"] = bench(args.shared, "http://127.0.0.1:18778", args,
                                    os.path.join(out, "real.json"))
        finally:
            subprocess.run([script, "stop", real_dir])
        # 2. bwfloor-server, one server; 3. two replicas on a fresh database.
        servers = [start_bwfloor(args, pg, out, 18779)]
        try:
            results["bwfloor1"] = bench(args.shared, "http://127.0.0.1:18779/placement", args,
                                        os.path.join(out, "bwfloor1.json"))
        finally:
            for server in servers:
                server.terminate()
                server.wait()
        pg.psql("DROP DATABASE bwfloor", database="postgres")
        pg.createdb("bwfloor")
        servers = [start_bwfloor(args, pg, out, port) for port in (18779, 18780)]
        urls = ["http://127.0.0.1:%d/placement" % port for port in (18779, 18780)]
        try:
            two = os.path.join(out, "bwfloor2")
            os.makedirs(two, exist_ok=True)
            results["bwfloor2"] = bench_two(args.shared, urls, args, two)
            lag = replication_lag(urls)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
    real = figures(results["real"])
    one, two = figures(results["bwfloor1"]), figures(results["bwfloor2"])
    print("%-60s %10s %10s %10s %7s %7s" % ("figure (%d hosts, PostgreSQL 15)" % args.hosts,
                                            "real 2w", "bwfloor 1", "bwfloor 2", "1/real",
                                            "2/real"))
    for key in sorted(set(real) & set(one) & set(two)):
        if not any(w in key for w in ("median", "p99", "per_s", "claims", "ok", "over")):
            continue
        r = real[key]
        ratio = (lambda v: ("%.2f" % (v / r)) if r else "-")
        print("%-60s %10.4g %10.4g %10.4g %7s %7s" % (key, r, one[key], two[key], ratio(one[key]),
                                                      ratio(two[key])))
    print("replication lag between the 2 replicas (%d samples): p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms" % (lag["samples"], lag["p50_ms"], lag["p99_ms"], lag["max_ms"]))
    print("results and logs: %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
