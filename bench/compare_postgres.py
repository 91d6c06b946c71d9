#!/usr/bin/python3
"""Placement on PostgreSQL: the real OpenStack Placement 8.0 (2 uwsgi workers) vs bwfloor-server,
in one run, on one throwaway PostgreSQL 15 cluster (tests/integration/pg/pgcluster.py), one
database each, never both servers at once. Prints both results' key figures and the ratios
(bwfloor / real); the JSON results and logs stay in --out.

  /usr/bin/python3 bench/compare_postgres.py [--hosts 100] [--claim-clients 16] [--out DIR]

Needs python3-placement uwsgi-core uwsgi-plugin-python3 python3-psycopg2 (apt-get) and
../shared/bench (real_placement.sh, bench_placement.py). bwfloor runs ONE server: several
replicas on one database are not built yet (issue 16), and a second server is refused.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
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


def bench(shared, url, args, out):
    cmd = ["/usr/bin/python3", os.path.join(shared, "bench", "bench_placement.py"), "--url", url,
           "--hosts", str(args.hosts), "--claim-concurrency", str(args.claim_clients),
           "--out", out, "--quiet"]
    subprocess.run(cmd, check=True, timeout=3600)
    with open(out) as f:
        return json.load(f)


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
    parser.add_argument("--hosts", type=int, default=100)
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
        # 2. bwfloor-server, one server.
        config = os.path.join(out, "bwfloor.ini")
        with open(config, "w") as f:
            f.write("[api]\nbind = 127.0.0.1:18779\n[placement_database]\nconnection = %s\n"
                    % pg.url_for("bwfloor"))
        log = open(os.path.join(out, "bwfloor.log"), "w")
        server = subprocess.Popen([args.server, "--config", config], stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            if not wait_http("http://127.0.0.1:18779/placement/"):
                raise SystemExit("bwfloor-server did not start; see %s" % log.name)
            results["bwfloor"] = bench(args.shared, "http://127.0.0.1:18779/placement", args,
                                       os.path.join(out, "bwfloor.json"))
        finally:
            server.terminate()
            server.wait()
    real, ours = figures(results["real"]), figures(results["bwfloor"])
    print("%-60s %12s %12s %8s" % ("figure (%d hosts, PostgreSQL 15)" % args.hosts, "real 2w",
                                   "bwfloor 1", "ratio"))
    for key in sorted(set(real) & set(ours)):
        if not any(w in key for w in ("median", "p99", "per_s", "claims", "ok", "over")):
            continue
        r, o = real[key], ours[key]
        ratio = ("%.2f" % (o / r)) if r else "-"
        print("%-60s %12.4g %12.4g %8s" % (key, r, o, ratio))
    print("results and logs: %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
