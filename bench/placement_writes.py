#!/usr/bin/python3
"""Placement write benchmark: provider reports and allocation writes, against any endpoint.

Standard library only (http.client keep-alive connections, one per client thread).

Phases
  traits     PUT /traits/CUSTOM_* for the traits the providers use (not timed).
  providers  C clients report --hosts hosts the way Neutron's agents and Nova's compute report
             a host: 7 providers per host, parents first, each
               POST /resource_providers                       (name, uuid, parent)
               PUT  /resource_providers/{u}/inventories       (root, 2 bridges, 2 NICs)
               PUT  /resource_providers/{u}/traits            (all 7 with --root-traits, else 6)
             -> up to 19 requests per host. Reported: hosts/s, providers/s, requests/s over the
             phase's wall time, latency of each request type and of a whole host report.
  allocations
             C clients PUT /allocations/{new consumer} (microversion >= 1.28,
             consumer_generation null; consumer_type at 1.38+) until --writes writes were made:
             a small allocation (VCPU 1, MEMORY_MB 64 on a root + 10/10 kbit/s on one of its
             bridges) against a random host of the pool. Reported: writes/s, latency, HTTP
             statuses (409s by error code).
  check      every provider touched: server usages == the client's tally of successful writes.

A phase starts no new host / write after --phase-budget seconds; its figures are then over what
was done ("budget_hit": true). Failed requests are counted (first failure kept), not fatal.

Prints one JSON document (and writes it to --out).

  /usr/bin/python3 bench/placement_writes.py --url http://127.0.0.1:8778/placement \\
      --hosts 500 --clients 4 --writes 2000
"""

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

EGR = "NET_BW_EGR_KILOBIT_PER_SEC"
IGR = "NET_BW_IGR_KILOBIT_PER_SEC"
PHYSNETS = ["CUSTOM_PHYSNET_PHYSNET0", "CUSTOM_PHYSNET_PHYSNET1"]
VNIC_NORMAL = ["CUSTOM_VNIC_TYPE_NORMAL"]
VNIC_SRIOV = ["CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL",
              "CUSTOM_VNIC_TYPE_MACVTAP"]
CUSTOM_TRAITS = PHYSNETS + VNIC_NORMAL + VNIC_SRIOV
ROOT_TRAITS = ["HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE", "HW_CPU_X86_SSE2",
               "COMPUTE_VOLUME_MULTI_ATTACH", "COMPUTE_IMAGE_TYPE_QCOW2",
               "COMPUTE_IMAGE_TYPE_RAW", "COMPUTE_TRUSTED_CERTS"]


class Client:
    """One keep-alive HTTP connection (one per thread)."""

    def __init__(self, url, token, microversion, timeout=120):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 80
        self.prefix = u.path.rstrip("/")
        self.token = token
        self.microversion = microversion
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None):
        """Returns (status, parsed JSON or None, seconds)."""
        headers = {"Accept": "application/json", "X-Auth-Token": self.token,
                   "OpenStack-API-Version": "placement %s" % self.microversion}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                self.conn.request(method, self.prefix + path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.HTTPException, OSError) as e:
                # The server closed an idle keep-alive connection: reconnect and retry.
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise RuntimeError("%s %s: %r" % (method, path, e)) from e
                continue
            elapsed = time.perf_counter() - t0
            if (resp.getheader("Connection") or "").lower() == "close":
                self.conn.close()
                self.conn = None
            parsed = None
            if raw:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = {"raw": raw[:300].decode("utf-8", "replace")}
            return resp.status, parsed, elapsed
        raise AssertionError("unreachable")


def percentile(sorted_values, p):
    k = (len(sorted_values) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(sorted_values) - 1)
    return sorted_values[f] + (sorted_values[c] - sorted_values[f]) * (k - f)


def summarize(values):
    s = sorted(values)
    if not s:
        return {"count": 0}
    return {"count": len(s), "mean_ms": round(1000 * statistics.fmean(s), 3),
            "median_ms": round(1000 * percentile(s, 50), 3),
            "p90_ms": round(1000 * percentile(s, 90), 3),
            "p99_ms": round(1000 * percentile(s, 99), 3), "max_ms": round(1000 * s[-1], 3)}


def expect(status, body, ok, what):
    if status not in ok:
        raise RuntimeError("%s -> HTTP %s %s" % (what, status, json.dumps(body)[:400]))


class Samples:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_op = {}

    def add(self, op, seconds):
        with self.lock:
            self.by_op.setdefault(op, []).append(seconds)


def run_clients(args, work):
    """Runs work(client_index, client) in --clients threads, each with its own keep-alive
    connection; returns (wall seconds, first error or None)."""
    n = args.clients
    errors = []

    def wrap(i):
        c = Client(args.url, args.token, args.microversion)
        try:
            work(i, c)
        except Exception as e:  # noqa: BLE001 - reported once, the phase stops
            errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            c.close()  # a single-process server serves one keep-alive connection at a time

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, (errors[0] if errors else None)


# --------------------------------------------------------------------------------------------


def host_plan(args, i):
    host = "%s-host%05d" % (args.run_id, i)

    def u(suffix):
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "bwfloor-bench/%s/%s" % (host, suffix)))

    def bw(total):
        return {"total": total, "reserved": 0, "min_unit": 1, "max_unit": total,
                "step_size": 1, "allocation_ratio": 1.0}

    root, ovs, sriov = u("root"), u("ovs"), u("sriov")
    plan = [
        {"name": host, "uuid": root, "parent": None,
         "inv": {"VCPU": {"total": 64, "reserved": 0, "min_unit": 1, "max_unit": 64,
                          "step_size": 1, "allocation_ratio": 16.0},
                 "MEMORY_MB": {"total": 262144, "reserved": 2048, "min_unit": 1,
                               "max_unit": 262144, "step_size": 1, "allocation_ratio": 1.0},
                 "DISK_GB": {"total": 1000, "reserved": 0, "min_unit": 1, "max_unit": 1000,
                             "step_size": 1, "allocation_ratio": 1.0}},
         "traits": ROOT_TRAITS if args.root_traits else []},
        {"name": host + ":Open vSwitch agent", "uuid": ovs, "parent": root, "inv": None,
         "traits": VNIC_NORMAL},
        {"name": host + ":NIC Switch agent", "uuid": sriov, "parent": root, "inv": None,
         "traits": VNIC_SRIOV},
    ]
    for n, physnet in enumerate(PHYSNETS):
        plan.append({"name": "%s:Open vSwitch agent:br-phys%d" % (host, n), "uuid": u("br%d" % n),
                     "parent": ovs, "inv": {EGR: bw(10000000), IGR: bw(10000000)},
                     "traits": [physnet] + VNIC_NORMAL})
    for n, physnet in enumerate(PHYSNETS):
        plan.append({"name": "%s:NIC Switch agent:enp%d" % (host, n), "uuid": u("nic%d" % n),
                     "parent": sriov, "inv": {EGR: bw(25000000), IGR: bw(25000000)},
                     "traits": [physnet] + VNIC_SRIOV})
    return plan


def report_host(c, samples, plan, count):
    """Reports one host; count[0] counts the requests made. Raises RuntimeError on an error."""
    t_host = time.perf_counter()
    for rp in plan:
        body = {"name": rp["name"], "uuid": rp["uuid"]}
        if rp["parent"]:
            body["parent_provider_uuid"] = rp["parent"]
        st, b, dt = c.request("POST", "/resource_providers", body)
        count[0] += 1
        expect(st, b, (200, 201), "POST /resource_providers %s" % rp["name"])
        samples.add("POST /resource_providers", dt)
        gen = b["generation"] if b and "generation" in b else 0
        if rp["inv"]:
            st, b, dt = c.request("PUT", "/resource_providers/%s/inventories" % rp["uuid"],
                                  {"resource_provider_generation": gen,
                                   "inventories": rp["inv"]})
            count[0] += 1
            expect(st, b, (200,), "PUT inventories %s" % rp["name"])
            samples.add("PUT /resource_providers/{u}/inventories", dt)
            gen = b["resource_provider_generation"]
        if rp["traits"]:
            st, b, dt = c.request("PUT", "/resource_providers/%s/traits" % rp["uuid"],
                                  {"resource_provider_generation": gen, "traits": rp["traits"]})
            count[0] += 1
            expect(st, b, (200,), "PUT traits %s" % rp["name"])
            samples.add("PUT /resource_providers/{u}/traits", dt)
    samples.add("host report (7 providers)", time.perf_counter() - t_host)


def phase_providers(args, result):
    """Returns the host indexes whose 7 providers were all reported."""
    samples = Samples()
    next_host = iter(range(args.hosts))
    lock = threading.Lock()
    counts = [0] * args.clients
    done, failed = [], []
    deadline = time.perf_counter() + args.phase_budget

    def work(i, c):
        while time.perf_counter() < deadline:
            with lock:
                h = next(next_host, None)
            if h is None:
                return
            requests = [0]
            try:
                report_host(c, samples, host_plan(args, h), requests)
                with lock:
                    done.append(h)
            except RuntimeError as e:  # counted; this client goes on with the next host
                with lock:
                    failed.append(str(e))
            counts[i] += requests[0]

    wall, error = run_clients(args, work)
    requests = sum(counts)
    hosts = len(done)
    all_requests = [s for op, v in samples.by_op.items() if not op.startswith("host") for s in v]
    result["providers"] = {
        "clients": args.clients, "hosts": hosts, "providers": hosts * 7, "requests": requests,
        "hosts_failed": len(failed), "budget_hit": hosts + len(failed) < args.hosts,
        "requests_per_client": counts,
        "wall_s": round(wall, 3), "hosts_per_s": round(hosts / wall, 2),
        "providers_per_s": round(7 * hosts / wall, 2),
        "requests_per_s": round(requests / wall, 2),
        "request_latency": summarize(all_requests),
        "by_op": {op: summarize(v) for op, v in sorted(samples.by_op.items())},
    }
    if failed:
        result["providers"]["first_failure"] = failed[0]
    if error:
        result["providers"]["error"] = error
    return sorted(done)


def phase_allocations(args, result, hosts):
    samples = Samples()
    pool = [host_plan(args, h) for h in hosts]
    deadline = time.perf_counter() + args.phase_budget
    lock = threading.Lock()
    state = {"issued": 0}
    per_client = [0] * args.clients
    statuses = {}
    tally = {}  # rp uuid -> {class: amount}
    with_type = tuple(map(int, args.microversion.split("."))) >= (1, 38)

    def work(i, c):
        rnd = random.Random(args.seed * 1000 + i)
        project, user = uuid.uuid4().hex, uuid.uuid4().hex
        while True:
            with lock:
                if state["issued"] >= args.writes or time.perf_counter() > deadline:
                    return
                state["issued"] += 1
            plan = rnd.choice(pool)
            root, bridge = plan[0]["uuid"], plan[3 + rnd.randrange(2)]["uuid"]
            alloc = {root: {"VCPU": 1, "MEMORY_MB": 64}, bridge: {EGR: 10, IGR: 10}}
            body = {"allocations": {rp: {"resources": r} for rp, r in alloc.items()},
                    "project_id": project, "user_id": user, "consumer_generation": None}
            if with_type:
                body["consumer_type"] = "INSTANCE"
            st, b, dt = c.request("PUT", "/allocations/%s" % uuid.uuid4(), body)
            per_client[i] += 1
            key = str(st)
            if st == 409:
                errs = (b or {}).get("errors") or [{}]
                key = "409 %s" % errs[0].get("code", "?")
            with lock:
                statuses[key] = statuses.get(key, 0) + 1
                if st == 204:
                    for rp, res in alloc.items():
                        t = tally.setdefault(rp, {})
                        for rc, n in res.items():
                            t[rc] = t.get(rc, 0) + n
            if st == 204:
                samples.add("PUT /allocations/{c}", dt)
            elif st != 409:
                with lock:
                    state.setdefault("first_failure", "HTTP %s %s" % (st, json.dumps(b)[:300]))

    wall, error = run_clients(args, work)
    ok = statuses.get("204", 0)
    result["allocations"] = {
        "clients": args.clients, "writes": sum(statuses.values()), "ok": ok,
        "statuses": statuses, "budget_hit": sum(statuses.values()) < args.writes,
        "writes_per_client": per_client,
        "wall_s": round(wall, 3), "writes_per_s": round(ok / wall, 2),
        "latency": summarize(samples.by_op.get("PUT /allocations/{c}", [])),
    }
    if "first_failure" in state:
        result["allocations"]["first_failure"] = state["first_failure"]
    if error:
        result["allocations"]["error"] = error
    result["_tally"] = tally
    return error is None and "first_failure" not in state


def phase_check(args, result):
    tally = result.pop("_tally", {})
    c = Client(args.url, args.token, args.microversion)
    mismatches = []
    for rp, want in tally.items():
        st, b, _ = c.request("GET", "/resource_providers/%s/usages" % rp)
        expect(st, b, (200,), "GET usages %s" % rp)
        got = {k: v for k, v in b["usages"].items() if k in want}
        if got != want:
            mismatches.append({"provider": rp, "server": got, "client": want})
    result["check"] = {"providers_checked": len(tally), "mismatches": len(mismatches),
                       "examples": mismatches[:5]}
    return not mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="Placement endpoint, e.g. "
                    "http://127.0.0.1:8778/placement or http://127.0.0.1:18778")
    ap.add_argument("--token", default="admin", help="X-Auth-Token (noauth2: admin)")
    ap.add_argument("--microversion", default=None,
                    help="default: the server's max_version, at most 1.39 (>= 1.28 needed)")
    ap.add_argument("--hosts", type=int, default=100, help="hosts to report (7 providers each)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (threads)")
    ap.add_argument("--writes", type=int, default=1000, help="allocation writes to make")
    ap.add_argument("--root-traits", action=argparse.BooleanOptionalAction, default=True,
                    help="set standard traits on the roots too (19 requests per host)")
    ap.add_argument("--phase-budget", type=float, default=150.0,
                    help="seconds: a phase starts no new host / write after this (figures are "
                    "then over what was done; budget_hit says so)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--label", default="")
    ap.add_argument("--out", help="also write the JSON here")
    args = ap.parse_args()
    args.run_id = "wb-%s" % uuid.uuid4().hex[:8]

    c = Client(args.url, args.token, "1.0")
    st, root, _ = c.request("GET", "/")
    expect(st, root, (200,), "GET /")
    max_version = root["versions"][0]["max_version"]
    if args.microversion is None:
        args.microversion = min(max_version, "1.39", key=lambda v: tuple(map(int, v.split("."))))
    if tuple(map(int, args.microversion.split("."))) < (1, 28):
        sys.exit("microversion %s: allocation writes need 1.28+" % args.microversion)
    c.microversion = args.microversion
    for trait in CUSTOM_TRAITS:
        st, b, _ = c.request("PUT", "/traits/" + trait)
        expect(st, b, (201, 204), "PUT /traits/" + trait)

    result = {"label": args.label, "url": args.url, "microversion": args.microversion,
              "server_max_version": max_version, "run_id": args.run_id,
              "params": {"hosts": args.hosts, "clients": args.clients, "writes": args.writes,
                         "root_traits": args.root_traits}}
    hosts = phase_providers(args, result)
    ok = bool(hosts) and not result["providers"]["hosts_failed"] and (
        "error" not in result["providers"])
    if hosts:
        ok = phase_allocations(args, result, hosts) and ok
        ok = phase_check(args, result) and ok
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
