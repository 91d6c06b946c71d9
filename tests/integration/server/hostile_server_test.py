#!/usr/bin/python3
"""bwfloor-server against hostile and careless clients (issue 15), on the real binary and HTTP.

Each check reproduces one crash, stall, lie or leak that issue 15 reported, and fails if it comes
back:

  crashes   huge microversion; invalid UTF-8 in it; wrong JSON types in /v1 fields; %ff in a path;
            JSON nested 70,000 deep (/placement and /v1/agents); SIGTERM with pending long-polls
  garbage   header > limit, 100 KB URL, negative / huge / non-integer Content-Length, bad
            chunking, a header without colon: each answered 400/413/414/431 in Placement's format
  lies      500 bodies with internal text; HTML error bodies echoing markup; rule update storing
            a rate placement cannot hold
  stalls    24 concurrent `server create` on one host and 64 over 16 hosts (fake agents that
            answer after 0.3 s): all succeed, GET /placement/ stays under 50 ms meanwhile; at the
            descriptor limit (prlimit) the accept loop neither spins nor floods the log
  leaks     kill -9 at random points of a create/delete loop (20 rounds): after the restart no
            allocation without a server, no server in BUILD

The fake agents speak the agent's protocol (heartbeat, bindings long-poll, binding_status), so the
server's own code is what is measured. Prints PASS/FAIL per check and the create rates; exit 1 if
any check failed. Standard library only.

  /usr/bin/python3 tests/integration/server/hostile_server_test.py --server build/bin/bwfloor-server
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, failures, free_port  # noqa: E402

STARTED = []  # every server process, killed at exit whatever happened (a test cleans up)


class Server:
    """One bwfloor-server process on a free loopback port with its own SQLite file."""

    def __init__(self, binary, workdir, nofile=None, binding_timeout=30, threads=4):
        self.binary = binary
        self.workdir = workdir
        self.nofile = nofile
        self.binding_timeout = binding_timeout
        self.threads = threads
        self.db = os.path.join(workdir, "placement.db")
        self.proc = None
        self.port = None
        self.log_path = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.port = free_port()
        config = os.path.join(self.workdir, "server.ini")
        with open(config, "w") as f:
            f.write("[DEFAULT]\nlog_level = info\n[api]\nbind = 127.0.0.1:%d\n"
                    "auth_strategy = noauth2\nthreads = %d\nbinding_timeout = %d\n"
                    "[placement_database]\nconnection = sqlite:///%s\n"
                    % (self.port, self.threads, self.binding_timeout, self.db))
        self.log_path = os.path.join(self.workdir, "server-%d.log" % self.starts)
        cmd = [self.binary, "--config", config]
        if self.nofile:
            cmd = ["prlimit", "--nofile=%d" % self.nofile, "--"] + cmd
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        STARTED.append(self.proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %d: %s" % (self.proc.returncode,
                                                                  self.log_tail()))
            try:
                status, _ = call(self.port, "GET", "/placement/", timeout=1)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)  # poll interval, bounded by the deadline
        raise RuntimeError("server did not answer within 20 s: " + self.log_tail())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM; returns the exit code (negative: killed by that signal)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung"

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def log_size(self):
        return os.path.getsize(self.log_path)


def call(port, method, path, body=None, headers=None, timeout=60):
    """One request on a new connection; returns (status, parsed JSON or raw text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        hdrs = {"Accept": "application/json", "OpenStack-API-Version": "placement 1.39",
                "X-Auth-Token": "admin"}
        hdrs.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, json.loads(raw) if raw else None
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")
    finally:
        conn.close()


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes; returns everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before all is sent
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        return out


def status_of(raw):
    if not raw.startswith(b"HTTP/1.1 "):
        return 0
    return int(raw[9:12])


# --- crashes, garbage and lies: one server, many requests -----------------------------------


def check_hostile_requests(binary, workdir):
    server = Server(binary, workdir)
    server.start()
    port = server.port

    def still_up(what):
        return check(server.alive(), what + " (server still running)", server.log_tail())

    status, body = call(port, "GET", "/placement",
                        headers={"OpenStack-API-Version": "placement 1.99999999999"})
    check(status == 406, "microversion past int is 406", "%s %s" % (status, body))
    still_up("huge microversion")
    raw = raw_exchange(port, b"GET /placement HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n"
                       b"OpenStack-API-Version: placement \xff\xfe\r\nConnection: close\r\n\r\n")
    check(status_of(raw) in (400, 406), "invalid UTF-8 microversion is 400/406", raw[:200])
    still_up("invalid UTF-8 microversion")

    deep = "[" * 70000 + "]" * 70000
    # The value of a field: the 400 that names a wrong value quotes it back.
    status, body = call(port, "POST", "/placement/resource_providers", '{"name": ' + deep + "}")
    check(status == 400 and "deeper" in json.dumps(body), "70,000-deep JSON on /placement is 400",
          "%s %s" % (status, str(body)[:200]))
    status, body = call(port, "POST", "/v1/agents",
                        '{"host":"h","agent_type":"t","configurations":' + deep + "}")
    check(status == 400, "70,000-deep JSON on /v1/agents is 400", "%s %s" % (status, str(body)[:200]))
    still_up("deep JSON")

    wrong_types = [
        ("/v1/servers", {"name": "x", "host": 5, "ports": []}),
        ("/v1/agents", {"host": 5, "agent_type": "t"}),
        ("/v1/networks", {"name": "n", "physnet": 5}),
        ("/v1/qos_policies", {"name": 5}),
        ("/v1/ports", {"name": "p", "network": 5}),
        ("/v1/ports", {"name": "p", "network": "n", "vnic_type": 5}),
        ("/v1/ports", {"name": "p", "network": "n", "mac_address": []}),
        ("/v1/ports", {"name": "p", "network": "n", "qos_policy": {}}),
    ]
    for path, body in wrong_types:
        status, answer = call(port, "POST", path, body)
        check(400 <= status < 500, "wrong JSON type on POST %s %s is 4xx" % (path, json.dumps(body)),
              "%s %s" % (status, answer))
    still_up("wrong JSON types")

    for path in ["/v1/%ff", "/placement/resource_providers/%ff", "/placement/traits/%ff%fe",
                 "/placement/resource_providers?name=%ff"]:
        status, answer = call(port, "GET", path)
        text = json.dumps(answer)
        check(status < 500 and "json.exception" not in text, "GET %s answers without internals"
              % path, "%s %s" % (status, text[:200]))
    still_up("%ff paths")

    # The 404's detail quotes the path; as an HTML page it must not carry live markup.
    status, answer = call(port, "DELETE",
                          "/placement/resource_providers/%3Csvg%20onload=alert(1)%3E",
                          headers={"Accept": "text/html"})
    check(status == 404 and "&lt;svg onload=alert(1)&gt;" in str(answer) and "<svg" not in
          str(answer), "HTML error bodies escape request text", str(answer)[:300])

    # A rule update may not store a rate placement cannot hold (creation caps it).
    call(port, "POST", "/v1/qos_policies", {"name": "capped"})
    status, rule = call(port, "POST", "/v1/qos_policies/capped/rules",
                        {"type": "minimum_bandwidth", "direction": "egress", "min_kbps": 1000})
    if check(status == 201, "rule created", "%s %s" % (status, rule)):
        status, answer = call(port, "PUT", "/v1/qos_policies/capped/rules/" + rule["id"],
                              {"min_kbps": 4611686018427387904})
        check(status == 400, "rule update past 2^31-1 kbit/s is 400", "%s %s" % (status, answer))
        _, policy = call(port, "GET", "/v1/qos_policies/capped")
        check(policy["rules"][0]["min_kbps"] == 1000, "refused rule update changed nothing",
              json.dumps(policy))

    garbage = [
        ("header over the limit", b"GET /placement/ HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 40000
         + b"\r\n\r\n", 431),
        ("100 KB URL", b"GET /" + b"u" * 100000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        ("negative Content-Length", b"POST /v1/agents HTTP/1.1\r\nHost: a\r\n"
         b"Content-Length: -5\r\n\r\n", 400),
        ("non-integer Content-Length", b"POST /v1/agents HTTP/1.1\r\nHost: a\r\n"
         b"Content-Length: 1x\r\n\r\n", 400),
        ("huge Content-Length", b"POST /v1/agents HTTP/1.1\r\nHost: a\r\n"
         b"Content-Length: 99999999999999\r\n\r\n", 413),
        ("bad chunking", b"POST /v1/agents HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
         b"\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
        ("header without colon", b"GET /placement/ HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
    ]
    for what, data, want in garbage:
        raw = raw_exchange(port, data)
        body = raw.split(b"\r\n\r\n", 1)[-1]
        try:
            ok_body = json.loads(body)["errors"][0]["status"] == want
        except (ValueError, KeyError, IndexError, TypeError):
            ok_body = False
        check(status_of(raw) == want and ok_body, "%s is answered %d" % (what, want), raw[:200])
    still_up("HTTP garbage")
    code = server.stop()
    check(code == 0, "SIGTERM after the hostile requests exits 0", "exit %s" % code)


# --- SIGTERM with pending long-polls --------------------------------------------------------


def check_sigterm_with_long_polls(binary, workdir, rounds):
    bad = []
    for i in range(rounds):
        server = Server(binary, workdir)
        server.start()
        socks = []
        for j in range(16):
            # The current revision: a long-poll with it waits (another one is answered at once).
            _, doc = call(server.port, "GET", "/v1/hosts/h%d/bindings" % j)
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"GET /v1/hosts/h%d/bindings?revision=%d&wait=60 HTTP/1.1\r\nHost: a\r\n"
                      b"X-Auth-Token: admin\r\n\r\n" % (j, doc["revision"]))
            socks.append(s)
        # Every long-poll must be held by the server before the signal: a plain request after
        # them is answered only once the server has read theirs (same threads, FIFO accept).
        call(server.port, "GET", "/placement/")
        code = server.stop()
        for s in socks:
            s.close()
        if code != 0:
            bad.append("round %d: exit %s: %s" % (i, code, server.log_tail(500)))
    check(not bad, "SIGTERM with 16 pending long-polls exits 0 (%d rounds)" % rounds,
          "; ".join(bad[:2]))


# --- fake agents and concurrent creates ------------------------------------------------------


class FakeAgent(threading.Thread):
    """One host's agent: its provider tree in placement, heartbeats, and a bindings long-poll that
    reports every pending port `enforced` after `delay` seconds (as the agent's protocol does)."""

    def __init__(self, port, host, delay):
        super().__init__(daemon=True)
        self.port = port
        self.host = host
        self.delay = delay
        self.stop = threading.Event()
        self.errors = []

    def provider(self, name, parent=None, traits=(), inventories=None):
        body = {"name": name}
        if parent:
            body["parent_provider_uuid"] = parent
        status, rp = call(self.port, "POST", "/placement/resource_providers", body)
        if status != 200:
            raise RuntimeError("create provider %s: %s %s" % (name, status, rp))
        uuid = rp["uuid"]
        gen = rp["generation"]
        if traits:
            for t in traits:
                call(self.port, "PUT", "/placement/traits/" + t)
            status, out = call(self.port, "PUT", "/placement/resource_providers/%s/traits" % uuid,
                               {"resource_provider_generation": gen, "traits": list(traits)})
            gen = out["resource_provider_generation"]
        if inventories:
            status, out = call(self.port, "PUT",
                               "/placement/resource_providers/%s/inventories" % uuid,
                               {"resource_provider_generation": gen, "inventories": inventories})
            if status != 200:
                raise RuntimeError("inventories of %s: %s %s" % (name, status, out))
        return uuid

    def setup(self, kbps):
        root = self.provider(self.host)
        agent = self.provider(self.host + ":Open vSwitch agent", root)
        self.provider(self.host + ":Open vSwitch agent:br-test", agent,
                      ["CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_VNIC_TYPE_NORMAL"],
                      {"NET_BW_EGR_KILOBIT_PER_SEC": {"total": kbps},
                       "NET_BW_IGR_KILOBIT_PER_SEC": {"total": kbps}})
        self.heartbeat()

    def heartbeat(self):
        status, out = call(self.port, "POST", "/v1/agents",
                           {"host": self.host, "agent_type": "Open vSwitch agent",
                            "resources_synced": True})
        if status != 200:
            raise RuntimeError("heartbeat: %s %s" % (status, out))

    def run(self):
        revision = None
        last_beat = time.monotonic()
        beat_port = self.port
        while not self.stop.is_set():
            try:
                if self.port != beat_port:  # the server restarted: liveness is runtime state
                    self.heartbeat()
                    beat_port = self.port
                    revision = None
                query = "" if revision is None else "?revision=%d&wait=2" % revision
                status, doc = call(self.port, "GET", "/v1/hosts/%s/bindings%s" % (self.host, query),
                                   timeout=10)
                if status != 200:
                    self.errors.append("bindings: %s %s" % (status, doc))
                    time.sleep(0.2)  # the server refused: do not spin (error path only)
                    continue
                revision = doc["revision"]
                pending = [b for b in doc["bindings"] if b["status"]["state"] == "pending"]
                if pending:
                    time.sleep(self.delay)  # the agent's programming time being simulated
                for b in pending:
                    call(self.port, "PUT", "/v1/ports/%s/binding_status" % b["port_id"],
                         {"state": "enforced", "host": self.host, "backend": "fake",
                          "detail": ""})
                if time.monotonic() - last_beat > 10:
                    self.heartbeat()
                    last_beat = time.monotonic()
            except OSError as e:
                if not self.stop.is_set():
                    self.errors.append(str(e))
                    time.sleep(0.2)  # the server is restarting (kill test): retry soon


def make_ports(port, prefix, n):
    call(port, "POST", "/v1/networks", {"name": "net0", "physnet": "physnet0",
                                         "segmentation_id": 100})
    call(port, "POST", "/v1/qos_policies", {"name": "qp0"})
    call(port, "POST", "/v1/qos_policies/qp0/rules",
         {"type": "minimum_bandwidth", "direction": "egress", "min_kbps": 1000})
    for i in range(n):
        status, out = call(port, "POST", "/v1/ports",
                           {"name": "%s%d" % (prefix, i), "network": "net0", "qos_policy": "qp0"})
        if status != 201:
            raise RuntimeError("create port: %s %s" % (status, out))


PROBE = """
import http.client, sys, time, select
port = int(sys.argv[1])
while not select.select([sys.stdin], [], [], 0.02)[0]:  # every 20 ms until stdin closes
    start = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/placement/", headers={"Accept": "application/json"})
        conn.getresponse().read()
        conn.close()
        print(time.monotonic() - start, flush=True)
    except OSError:
        print(30.0, flush=True)
"""


class LatencyProbe:
    """GET /placement/ every 20 ms while the load runs, from its own process (the load's Python
    threads would otherwise delay the probe on the GIL and count as server latency)."""

    def __init__(self, port):
        self.proc = subprocess.Popen([sys.executable, "-c", PROBE, str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.latencies = []

    def finish(self):
        out, _ = self.proc.communicate(input="", timeout=60)
        self.latencies = [float(x) for x in out.split()]


def concurrent_creates(port, names_ports, clients):
    """Creates the servers from `clients` threads at once; returns (answers, seconds)."""
    results = {}
    lock = threading.Lock()
    todo = list(names_ports)

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                name, p = todo.pop()
            status, out = call(port, "POST", "/v1/servers", {"name": name, "ports": [p]},
                               timeout=120)
            with lock:
                results[name] = (status, out)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.monotonic() - start


def check_concurrent_creates(binary, workdir, hosts, servers, clients, label, rates):
    work = tempfile.mkdtemp(dir=workdir)
    server = Server(binary, work)
    server.start()
    agents = [FakeAgent(server.port, "host%02d" % i, 0.3) for i in range(hosts)]
    for a in agents:
        a.setup(10_000_000)
        a.start()
    make_ports(server.port, "p", servers)
    probe = LatencyProbe(server.port)
    results, seconds = concurrent_creates(server.port,
                                          [("vm%d" % i, "p%d" % i) for i in range(servers)],
                                          clients)
    probe.finish()
    ok = [n for n, (s, out) in results.items() if s == 201 and out.get("status") == "ACTIVE"]
    failed = {n: r for n, r in results.items() if n not in ok}
    check(len(ok) == servers, "%s: %d of %d creates ACTIVE" % (label, len(ok), servers),
          str(list(failed.items())[:2]))
    worst = max(probe.latencies) if probe.latencies else 0
    check(probe.latencies and worst < 0.05,
          "%s: GET /placement/ under 50 ms throughout (worst %.1f ms, %d probes)"
          % (label, worst * 1000, len(probe.latencies)))
    rates[label] = (servers / seconds, seconds, worst)
    # Usage equals what was claimed.
    status, usages = call(server.port, "GET", "/placement/usages?project_id=bwfloor",
                          headers={"OpenStack-API-Version": "placement 1.9"})
    used = usages["usages"].get("NET_BW_EGR_KILOBIT_PER_SEC", 0) if status == 200 else -1
    check(used == 1000 * len(ok), "%s: usage equals the claims (%d kbit/s)" % (label, used))
    for a in agents:
        a.stop.set()
    code = server.stop()
    check(code == 0, "%s: SIGTERM with agents' long-polls pending exits 0" % label,
          "exit %s: %s" % (code, server.log_tail(500)))
    for a in agents:
        a.join(timeout=15)


# --- kill -9 during create/delete ------------------------------------------------------------


def check_kill_during_create_delete(binary, workdir, rounds, seed):
    rng = random.Random(seed)
    work = tempfile.mkdtemp(dir=workdir)
    server = Server(binary, work, binding_timeout=5)
    server.start()
    agent = FakeAgent(server.port, "host00", 0.05)
    agent.setup(10_000_000)
    agent.start()
    make_ports(server.port, "p", 4)
    kills = 0
    for r in range(rounds):
        stop = threading.Event()

        def churn(i):
            while not stop.is_set():
                try:
                    call(server.port, "POST", "/v1/servers",
                         {"name": "vm%d" % i, "ports": ["p%d" % i]}, timeout=10)
                    call(server.port, "DELETE", "/v1/servers/vm%d" % i, timeout=10)
                except OSError:
                    return

        threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.05, 0.6))  # a random point in the churn: the kill's timing
        server.kill9()
        kills += 1
        stop.set()
        for t in threads:
            t.join()
        old_port = server.port
        server.start()
        agent.port = server.port
        # The restarted server must have undone what the kill interrupted.
        _, servers = call(server.port, "GET", "/v1/servers")
        building = [s["name"] for s in servers["servers"] if s["status"] == "BUILD"]
        ids = {s["id"] for s in servers["servers"]}
        status, alloc = call(server.port, "GET", "/placement/resource_providers?name="
                             "host00:Open%20vSwitch%20agent:br-test")
        rp = alloc["resource_providers"][0]["uuid"]
        _, allocs = call(server.port, "GET", "/placement/resource_providers/%s/allocations" % rp)
        orphans = [c for c in allocs["allocations"] if c not in ids]
        if building or orphans:
            check(False, "kill -9 round %d leaves nothing behind" % r,
                  "BUILD %s, orphan allocations %s (old port %d)" % (building, orphans, old_port))
            break
        # Clean slate for the next round.
        for s in servers["servers"]:
            call(server.port, "DELETE", "/v1/servers/" + s["id"])
    else:
        check(True, "kill -9 at random points of create/delete: %d rounds, no orphan allocation, "
                    "no server in BUILD" % kills)
    agent.stop.set()
    server.stop()
    agent.join(timeout=15)


# --- the descriptor limit --------------------------------------------------------------------


def check_descriptor_limit(binary, workdir):
    work = tempfile.mkdtemp(dir=workdir)
    server = Server(binary, work, nofile=64)
    server.start()
    socks = []
    for _ in range(120):
        try:
            socks.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
        except OSError:
            break
    time.sleep(0.5)  # let the server run into the limit before measuring it
    with open("/proc/%d/stat" % server.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu_before = int(fields[11]) + int(fields[12])
    log_before = server.log_size()
    time.sleep(2.0)  # the measurement window
    with open("/proc/%d/stat" % server.proc.pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12]) - cpu_before) / os.sysconf("SC_CLK_TCK") / 2.0
    log_growth = server.log_size() - log_before
    check(cpu < 0.2, "at the descriptor limit the server does not spin (%.0f%% CPU)" % (cpu * 100))
    check(log_growth < 2000, "at the descriptor limit the log grows slowly (%d bytes in 2 s)"
          % log_growth)
    for s in socks:
        s.close()
    deadline = time.monotonic() + 5
    answered = False
    while time.monotonic() < deadline and not answered:
        try:
            answered = call(server.port, "GET", "/placement/", timeout=1)[0] == 200
        except OSError:
            time.sleep(0.1)  # the server is still closing the idle crowd's descriptors
    check(answered, "after the crowd leaves the server answers again")
    server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="path of the bwfloor-server binary")
    ap.add_argument("--sigterm-rounds", type=int, default=10)
    ap.add_argument("--kill-rounds", type=int, default=20)
    ap.add_argument("--only", help="comma-separated: hostile,sigterm,creates,kill,nofile")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    workdir = tempfile.mkdtemp(prefix="bwfloor-hostile-")
    print("workdir %s, seed %d" % (workdir, args.seed), flush=True)
    rates = {}
    sections = [
        ("hostile", lambda: check_hostile_requests(args.server, tempfile.mkdtemp(dir=workdir))),
        ("sigterm", lambda: check_sigterm_with_long_polls(
            args.server, tempfile.mkdtemp(dir=workdir), args.sigterm_rounds)),
        ("nofile", lambda: check_descriptor_limit(args.server, workdir)),
        ("creates", lambda: [
            check_concurrent_creates(args.server, workdir, 1, 1, 1, "1 client, 1 host", rates),
            check_concurrent_creates(args.server, workdir, 1, 24, 8, "8 clients, 1 host", rates),
            check_concurrent_creates(args.server, workdir, 1, 24, 24, "24 clients, 1 host", rates),
            check_concurrent_creates(args.server, workdir, 16, 64, 64, "64 clients, 16 hosts",
                                     rates)]),
        ("kill", lambda: check_kill_during_create_delete(args.server, workdir, args.kill_rounds,
                                                         args.seed)),
    ]
    try:
        for name, run in sections:
            if only and name not in only:
                continue
            try:
                run()
            except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
                # A server that died mid-section (a crash) is reported, not a traceback.
                check(False, "section %s ran to the end" % name, repr(e))
    finally:
        for proc in STARTED:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for label, (rate, seconds, worst) in rates.items():
            print("creates: %-22s %6.1f creates/s (%.1f s; worst GET /placement/ %.1f ms)"
                  % (label, rate, seconds, worst * 1000))
        if failures():
            print("logs kept in %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d check(s) failed" % len(failures()) if failures() else "all checks passed")
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
