#!/usr/bin/python3
"""Runs a command with a throwaway PostgreSQL cluster (pgcluster.py) and
BWFLOOR_TEST_PG=postgresql://postgres@127.0.0.1:PORT (no database: tests create their own) in its
environment, and BWFLOOR_DEMO_PG_URL, the database postgres_tests through the cluster's unix
socket (reachable from other network namespaces); exits with the command's status. The cluster
goes at exit.

    run_with_postgres.py -- build/tests/integration/pg/postgres_store_test
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pgcluster import PgCluster  # noqa: E402


def main():
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    with PgCluster(database="postgres_tests") as pg:
        env = dict(os.environ, BWFLOOR_TEST_PG="postgresql://postgres@127.0.0.1:%d" % pg.port,
                   BWFLOOR_DEMO_PG_URL="postgresql://postgres@/postgres_tests?host=%s&port=%d"
                   % (pg.dir, pg.port))
        return subprocess.run(argv, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
