"""A throwaway PostgreSQL 15 cluster for tests: initdb in a temporary directory as the postgres
user, pg_ctl start on a free loopback port (and a socket in that directory), one database; stopped
and removed at exit, also when the test failed. Debian's `postgresql` package provides the
binaries (scripts/install-deps.sh installs it); no system cluster is used or touched.

    with PgCluster() as pg:
        pg.url   # postgresql://postgres@127.0.0.1:PORT/bwfloor
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("no /usr/lib/postgresql/*/bin/initdb: apt-get install postgresql")
    return os.path.dirname(found[-1])


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, database="bwfloor"):
        self.database = database
        self.dir = None
        self.port = None
        self.bindir = _bindir()

    def _as_postgres(self, argv, check=True):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + argv, capture_output=True,
                              text=True, check=check, timeout=120)

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="bwfloor-pg-")
        pg = pwd.getpwnam("postgres")
        os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, "data")
        self._as_postgres([os.path.join(self.bindir, "initdb"), "-D", data, "-A", "trust",
                           "-U", "postgres", "--no-sync"])
        self.port = _free_port()
        self.start()
        self.createdb(self.database)
        return self

    def start(self):
        """Starts the cluster (again, after stop(): same port, same data)."""
        options = "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=on" % (self.port, self.dir)
        self._as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D",
                           os.path.join(self.dir, "data"), "-o", options,
                           "-l", os.path.join(self.dir, "log"), "-w", "start"])

    def stop(self):
        """Stops the server at once, as a crash or an outage would (clients lose their
        connections); start() brings it back."""
        self._as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D",
                           os.path.join(self.dir, "data"), "-m", "immediate", "-w", "stop"])

    def createdb(self, name):
        self._as_postgres([os.path.join(self.bindir, "createdb"), "-h", "127.0.0.1", "-p",
                           str(self.port), "-U", "postgres", name])

    def psql(self, sql, database=None):
        return self._as_postgres([os.path.join(self.bindir, "psql"), "-h", "127.0.0.1", "-p",
                                  str(self.port), "-U", "postgres", "-d",
                                  database or self.database, "-tAc", sql]).stdout.strip()

    def url_for(self, database):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, database)

    @property
    def url(self):
        return self.url_for(self.database)

    def __exit__(self, *exc):
        if self.dir is None:
            return False
        self._as_postgres([os.path.join(self.bindir, "pg_ctl"), "-D",
                           os.path.join(self.dir, "data"), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        return False
