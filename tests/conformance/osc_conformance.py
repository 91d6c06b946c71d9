#!/usr/bin/python3
"""Conformance: Debian's real OpenStack client (python3-osc-placement) against bwfloor-server.

Starts the bwfloor-server binary on a free loopback port with a temporary SQLite database, then
drives it only through `/usr/bin/openstack ... -f json` and checks what the client prints:

  * global: resource classes (create/show/set/list/delete, in-use and standard refusals) and
    traits (create/show/list/delete, in-use and standard refusals);
  * per microversion (1.17 1.20 1.28 1.29 1.37 1.38 1.39 by default): the reference scenario's
    devstack0 provider tree (root, "Open vSwitch agent" / "NIC Switch agent" children with
    Neutron's uuid5 ids, br-test / br-ex / ens5 grandchildren with NET_BW inventories and
    CUSTOM_PHYSNET_* / CUSTOM_VNIC_TYPE_* traits), list filters, inventories, provider traits,
    aggregates, allocations (project/user, consumer generation, consumer type), usages,
    rename / re-parenting and deletion. The suites run concurrently (--jobs), each on its own
    copy of the tree: the highest microversion's copy is the scenario's exact "devstack0", the
    others are "devstack0-v1.NN";
  * persistence: the server is stopped with SIGTERM (exit code must be 0), restarted on the same
    database, and the kept devstack0 tree, its allocation, traits and aggregates are read back.

Every check prints PASS or FAIL with the client command. Exit status 1 if any check failed.
Standard library only; run with /usr/bin/python3 (Debian's, which has the client's modules).

--client fork (default) runs /usr/bin/openstack's own script, unchanged, in a fresh fork of an
interpreter that has already imported the client (importing it is ~0.8 s of CPU per command, ~5x
the whole run); --client exec starts /usr/bin/openstack as a new process for every command.

  /usr/bin/python3 tests/conformance/osc_conformance.py --server build/bin/bwfloor-server
  ctest --test-dir build -L conformance --output-on-failure
"""

import argparse
import concurrent.futures
import ctypes
import json
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

NS_OVS = uuid.UUID("87ee7d5c-73bb-11e8-9008-c4d987b2a692")
NS_SRIOV = uuid.UUID("87f1895c-73bb-11e8-9008-c4d987b2a692")
DEFAULT_VERSIONS = "1.17,1.20,1.28,1.29,1.37,1.38,1.39"

EGR = "NET_BW_EGR_KILOBIT_PER_SEC"
IGR = "NET_BW_IGR_KILOBIT_PER_SEC"
PHYSNET0 = "CUSTOM_PHYSNET_PHYSNET0"
PUBLIC = "CUSTOM_PHYSNET_PUBLIC"
NORMAL = "CUSTOM_VNIC_TYPE_NORMAL"
DIRECT = "CUSTOM_VNIC_TYPE_DIRECT"
DIRECT_PHYSICAL = "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL"
MACVTAP = "CUSTOM_VNIC_TYPE_MACVTAP"
SCENARIO_TRAITS = [PHYSNET0, PUBLIC, DIRECT, DIRECT_PHYSICAL, MACVTAP, NORMAL]
MAX_INT = 2147483647
ABORT = threading.Event()  # set on SIGTERM/SIGINT: every further client call fails at once


def vtuple(version):
    return tuple(int(part) for part in version.split("."))


# --------------------------------------------------------------------------------------------
# The server under test


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """preexec_fn: the server gets SIGKILL if this script dies (e.g. killed by a CTest timeout)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class ExternalServer:
    """--endpoint: an already running Placement (e.g. the real one, to check these expectations
    against the reference implementation). No start, stop or restart."""

    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip("/")
        self.proc = None

    def kill(self):
        pass


class Server:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.db = os.path.join(workdir, "placement.db")
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = None

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d/placement" % self.port

    def start(self, deadline_s=30.0):
        """Starts the server on a free port; returns an error string or None once GET / answers."""
        last_error = "not started"
        for _ in range(5):  # another process may grab the free port between probe and bind
            self.starts += 1
            self.port = free_port()
            config = os.path.join(self.workdir, "server-%d.ini" % self.starts)
            with open(config, "w") as f:
                f.write("[DEFAULT]\nlog_level = info\n[api]\nbind = 127.0.0.1:%d\n"
                        "auth_strategy = noauth2\n[placement_database]\n"
                        "connection = sqlite:///%s\n" % (self.port, self.db))
            self.log_path = os.path.join(self.workdir, "server-%d.log" % self.starts)
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen([self.binary, "--config", config], stdout=log,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             preexec_fn=die_with_parent)
            last_error = self._wait_ready(deadline_s)
            if last_error is None:
                return None
            if self.proc.poll() is None:
                self.kill()
            if "in use" not in self.log_tail().lower():
                break
        return last_error

    def _wait_ready(self, deadline_s):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + deadline_s
        url = "http://127.0.0.1:%d/" % self.port
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "server exited with %d before answering; log:\n%s" % (
                    self.proc.returncode, self.log_tail())
            try:
                with opener.open(url, timeout=1) as resp:
                    body = json.loads(resp.read())
                    if resp.status == 200 and "versions" in body:
                        return None
            except (OSError, ValueError):
                pass
            time.sleep(0.02)  # poll interval, bounded by the deadline
        return "GET %s did not answer within %.0f s; log:\n%s" % (url, deadline_s, self.log_tail())

    def stop(self, timeout_s=20.0):
        """SIGTERM, then waits; returns None if it exited with 0, else what went wrong."""
        if self.proc is None:
            return "never started"
        if self.proc.poll() is not None:
            return "had already exited (code %d) before the SIGTERM; log:\n%s" % (
                self.proc.returncode, self.log_tail())
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return "still running %.0f s after SIGTERM, killed; log:\n%s" % (
                timeout_s, self.log_tail())
        if code != 0:
            return "exit code %d after SIGTERM; log:\n%s" % (code, self.log_tail())
        return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


# --------------------------------------------------------------------------------------------
# Running the client and recording checks


# The forking launcher (--client fork): a Debian python3 that compiles /usr/bin/openstack once and
# imports what that script imports (openstackclient.shell, the slow part: ~0.8 s of CPU per
# command), then, for each command, forks and runs the script unchanged as __main__ with the
# command's argv, stdout and stderr in files; it answers with the exit code. Every command is
# still a fresh process running Debian's client code end to end, only without re-importing it.
LAUNCHER = r"""
import json, os, sys, traceback
script = sys.argv[1]
with open(script) as f:
    code = compile(f.read(), script, "exec")
import openstackclient.shell  # noqa: F401  (what the script imports first)
import osc_placement.plugin  # noqa: F401
proto = os.fdopen(os.dup(1), "w")
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        rc = 1
        try:
            proto.close()
            fd_in = os.open(os.devnull, os.O_RDONLY)
            fd_out = os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            fd_err = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd_in, 0)
            os.dup2(fd_out, 1)
            os.dup2(fd_err, 2)
            sys.argv = [script] + req["argv"]
            try:
                exec(code, {"__name__": "__main__", "__file__": script})
                rc = 0
            except SystemExit as e:
                if e.code is None or isinstance(e.code, int):
                    rc = e.code or 0
                else:
                    print(e.code, file=sys.stderr)
                    rc = 1
            except BaseException:
                traceback.print_exc()
                rc = 1
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(rc)
    _, status = os.waitpid(pid, 0)
    proto.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")
    proto.flush()
"""


class Launcher:
    """One forking launcher process (one per client thread: commands in it run one at a time)."""

    def __init__(self, openstack, env, workdir):
        with open(openstack) as f:
            first = f.readline()
        interpreter = first[2:].strip().split()[0] if first.startswith("#!") else sys.executable
        self.workdir = workdir
        self.count = 0
        self.proc = subprocess.Popen([interpreter, "-c", LAUNCHER, openstack], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True, preexec_fn=die_with_parent)

    def run(self, argv, timeout):
        self.count += 1
        base = os.path.join(self.workdir, "cmd-%d-%d" % (self.proc.pid, self.count))
        req = {"argv": argv, "stdout": base + ".out", "stderr": base + ".err"}
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.close(kill=True)
            return 124, "", "timed out after %d s" % timeout
        line = self.proc.stdout.readline()
        if not line:
            self.close(kill=True)
            return 125, "", "the launcher died"
        rc = json.loads(line)["rc"]
        out, err = "", ""
        for path, name in ((req["stdout"], "out"), (req["stderr"], "err")):
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
                os.unlink(path)
            except OSError:
                text = ""
            if name == "out":
                out = text
            else:
                err = text
        return rc, out, err

    def alive(self):
        return self.proc.poll() is None

    def close(self, kill=False):
        if self.proc.poll() is None:
            if kill:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
            else:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Client:
    def __init__(self, openstack, server, mode, workdir):
        self.openstack = openstack
        self.server = server
        self.mode = mode
        self.workdir = workdir
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OS_") and k.lower() not in ("http_proxy", "https_proxy")}
        env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
        self.env = env
        self.local = threading.local()
        self.lock = threading.Lock()
        self.launchers = []

    def _launcher(self):
        launcher = getattr(self.local, "launcher", None)
        if launcher is None or not launcher.alive():
            launcher = Launcher(self.openstack, self.env, self.workdir)
            self.local.launcher = launcher
            with self.lock:
                self.launchers.append(launcher)
        return launcher

    def close(self):
        with self.lock:
            for launcher in self.launchers:
                launcher.close()

    def run(self, version, args, fmt_json, timeout=120):
        if ABORT.is_set():
            raise RuntimeError("aborted by a signal")
        argv = ["--os-auth-type", "admin_token", "--os-token", "admin",
                "--os-endpoint", self.server.endpoint, "--os-placement-api-version", version]
        argv += list(args)
        if fmt_json:
            argv += ["-f", "json"]
        if self.mode == "fork":
            rc, out, err = self._launcher().run(argv, timeout)
        else:
            try:
                p = subprocess.run([self.openstack] + argv, capture_output=True, text=True,
                                   timeout=timeout, env=self.env, stdin=subprocess.DEVNULL)
                rc, out, err = p.returncode, p.stdout, p.stderr
            except subprocess.TimeoutExpired:
                rc, out, err = 124, "", "timed out after %d s" % timeout
        if rc != 0 and self.server.proc is not None and self.server.proc.poll() is not None:
            raise RuntimeError("bwfloor-server is gone (exit code %d) during `openstack %s`; "
                               "its log ends with:\n%s" % (self.server.proc.returncode,
                                                            shlex.join(args),
                                                            self.server.log_tail()))
        data = None
        if rc == 0 and fmt_json:
            try:
                data = json.loads(out)
            except ValueError as e:
                return 0, None, out, "output is not JSON: %s" % e
        return rc, data, out, err


class Report:
    """Collects PASS/FAIL lines of all suites; each suite prints its block when it ends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.passed = 0
        self.failures = []

    def flush(self, suite):
        with self.lock:
            sys.stdout.write("\n".join(suite.lines) + "\n")
            sys.stdout.flush()
            self.passed += suite.passed
            self.failures += suite.failures


class Suite:
    def __init__(self, client, version, title):
        self.client = client
        self.version = version
        self.v = vtuple(version)
        self.title = title
        self.lines = ["", "=== %s (--os-placement-api-version %s)" % (title, version)]
        self.passed = 0
        self.failures = []

    def ge(self, version):
        return self.v >= vtuple(version)

    def _label(self, args):
        return "[%s] openstack %s" % (self.version, shlex.join(args))

    def pass_(self, label):
        self.passed += 1
        self.lines.append("PASS  " + label)

    def fail(self, label, why):
        self.failures.append("%s: %s" % (label, why))
        self.lines.append("FAIL  %s\n        %s" % (label, why.replace("\n", "\n        ")))

    def ok(self, args, check=None, fmt_json=True):
        """Runs a command that must succeed; check(data) returns None or what is wrong."""
        label = self._label(args)
        rc, data, out, err = self.client.run(self.version, args, fmt_json)
        if rc != 0 or (fmt_json and data is None):
            self.fail(label, "exit %d: %s" % (rc, (err or out).strip()[-600:]))
            return None
        if check is not None:
            try:
                why = check(data)
            except Exception as e:  # a malformed answer is a failed check, not a crash
                why = "%s: %s" % (type(e).__name__, e)
            if why:
                self.fail(label, "%s\n got: %s" % (why, json.dumps(data)[:1500]))
                return data
        self.pass_(label)
        return data

    def refused(self, args, needle=None, why_expected=""):
        """Runs a command that must fail (non-zero exit), with `needle` in its message."""
        label = self._label(args) + "   (must be refused%s)" % (
            ": " + why_expected if why_expected else "")
        rc, _, out, err = self.client.run(self.version, args, fmt_json=False)
        text = (err + out).strip()
        if rc == 0:
            self.fail(label, "succeeded, expected a refusal; output: %s" % text[-600:])
        elif needle and needle not in text:
            self.fail(label, "refused, but without %r: %s" % (needle, text[-600:]))
        else:
            self.pass_(label)

    def note(self, text):
        self.lines.append("      " + text)


# --------------------------------------------------------------------------------------------
# Check helpers: each returns None if fine, else a description of what is wrong.


def fields(**expected):
    def check(d):
        bad = ["%s=%r (want %r)" % (k, d.get(k), v) for k, v in expected.items() if d.get(k) != v]
        return "; ".join(bad) or None
    return check


def names(rows, key="name"):
    return sorted(r[key] for r in rows)


def same_set(key, want):
    want = sorted(want)

    def check(rows):
        got = names(rows, key)
        return None if got == want else "%s: got %s, want %s" % (key, got, want)
    return check


def contains_all(key, want):
    def check(rows):
        got = set(names(rows, key))
        missing = sorted(set(want) - got)
        return "missing %s" % missing if missing else None
    return check


def contains_none(key, unwanted):
    def check(rows):
        present = sorted(set(names(rows, key)) & set(unwanted))
        return "unexpectedly present %s" % present if present else None
    return check


def inventory_rows(want, used=None):
    """want: {class: {field: value}} (fields not given must be the defaults)."""
    def check(rows):
        by_class = {r["resource_class"]: r for r in rows}
        if sorted(by_class) != sorted(want):
            return "classes %s, want %s" % (sorted(by_class), sorted(want))
        problems = []
        for rc, w in want.items():
            full = {"reserved": 0, "min_unit": 1, "max_unit": MAX_INT, "step_size": 1,
                    "allocation_ratio": 1.0}
            full.update(w)
            if used is not None:
                full["used"] = used.get(rc, 0)
            for k, v in full.items():
                if by_class[rc].get(k) != v:
                    problems.append("%s.%s=%r (want %r)" % (rc, k, by_class[rc].get(k), v))
        return "; ".join(problems) or None
    return check


def usage_rows(want):
    def check(rows):
        got = {r["resource_class"]: r["usage"] for r in rows}
        return None if got == want else "usages %s, want %s" % (got, want)
    return check


def allocation_rows(want, project=None, user=None, consumer_type=None, generations=None):
    """want: {rp_uuid: {class: amount}}."""
    def check(rows):
        got = {r["resource_provider"]: r["resources"] for r in rows}
        if got != want:
            return "allocations %s, want %s" % (got, want)
        problems = []
        for r in rows:
            for key, value in (("project_id", project), ("user_id", user),
                               ("consumer_type", consumer_type)):
                if value is not None and r.get(key) != value:
                    problems.append("%s=%r (want %r)" % (key, r.get(key), value))
            if generations and r["resource_provider"] in generations:
                g = generations[r["resource_provider"]]
                if r.get("generation") != g:
                    problems.append("generation of %s=%r (want %r)"
                                    % (r["resource_provider"], r.get("generation"), g))
        return "; ".join(problems) or None
    return check


def empty(rows):
    return None if rows == [] else "expected an empty list"


# --------------------------------------------------------------------------------------------
# Global checks: resource classes and traits


def scenario_traits(s):
    for t in SCENARIO_TRAITS:
        s.ok(["trait", "create", t], fmt_json=False)


def global_checks(s):
    cls = "CUSTOM_BWFLOOR_CONFORMANCE"
    s.ok(["resource", "class", "list"],
         contains_all("name", ["VCPU", "MEMORY_MB", "DISK_GB", EGR, IGR, "PCPU",
                               "NET_PACKET_RATE_KILOPACKET_PER_SEC"]))
    s.ok(["resource", "class", "create", cls], fmt_json=False)
    s.refused(["resource", "class", "create", cls], "409", "already exists")
    s.refused(["resource", "class", "create", "BWFLOOR_NOT_CUSTOM"], "400", "not CUSTOM_")
    s.ok(["resource", "class", "show", cls], fields(name=cls))
    s.ok(["resource", "class", "set", cls], fmt_json=False)  # 1.7+: create-or-verify, 204
    s.ok(["resource", "class", "set", cls + "_2"], fmt_json=False)  # 201
    s.ok(["resource", "class", "list"], contains_all("name", [cls, cls + "_2"]))
    s.refused(["resource", "class", "show", "CUSTOM_NO_SUCH_CLASS"], "404")
    s.refused(["resource", "class", "delete", "VCPU"], "400", "standard class")

    # Traits: the scenario's exist already (scenario_traits), plus one to delete.
    s.ok(["trait", "create", "CUSTOM_BWFLOOR_TMP"], fmt_json=False)
    s.ok(["trait", "create", PHYSNET0], fmt_json=False)  # exists: 204, still success
    s.refused(["trait", "create", "custom_lowercase"], "400", "bad name")
    s.refused(["trait", "create", "HW_CPU_X86_NOT_CUSTOM"], "400", "not CUSTOM_")
    s.ok(["trait", "list"], contains_all("name", SCENARIO_TRAITS + [
        "HW_CPU_X86_AVX", "MISC_SHARES_VIA_AGGREGATE", "HW_NUMA_ROOT", "COMPUTE_STATUS_DISABLED"]))
    s.ok(["trait", "list", "--name", "startswith:CUSTOM_"],
         same_set("name", SCENARIO_TRAITS + ["CUSTOM_BWFLOOR_TMP"]))
    s.ok(["trait", "list", "--name", "in:%s,HW_CPU_X86_AVX,CUSTOM_NO_SUCH" % PHYSNET0],
         same_set("name", [PHYSNET0, "HW_CPU_X86_AVX"]))
    s.ok(["trait", "show", PHYSNET0], fields(name=PHYSNET0))
    s.refused(["trait", "show", "CUSTOM_NO_SUCH_TRAIT"], "404")
    s.refused(["trait", "delete", "HW_CPU_X86_AVX"], "400", "standard trait")

    # A provider using the custom class and the temporary trait: both in use, then released.
    rp = s.ok(["resource", "provider", "create", "conformance-classes"], fields(
        name="conformance-classes", generation=0))
    if rp is None:
        return
    u = rp["uuid"]
    s.ok(["resource", "provider", "inventory", "set", u, "--resource", cls + "=10"],
         inventory_rows({cls: {"total": 10}}))
    s.ok(["resource", "provider", "trait", "set", u, "--trait", "CUSTOM_BWFLOOR_TMP"],
         same_set("name", ["CUSTOM_BWFLOOR_TMP"]))
    s.ok(["trait", "list", "--associated"], contains_all("name", ["CUSTOM_BWFLOOR_TMP"]))
    s.refused(["resource", "class", "delete", cls], "409", "class in use by an inventory")
    s.refused(["trait", "delete", "CUSTOM_BWFLOOR_TMP"], "409", "trait in use by a provider")
    s.ok(["resource", "provider", "trait", "delete", u], fmt_json=False)
    s.ok(["resource", "provider", "trait", "list", u], empty)
    s.ok(["trait", "delete", "CUSTOM_BWFLOOR_TMP"], fmt_json=False)
    s.refused(["trait", "show", "CUSTOM_BWFLOOR_TMP"], "404", "deleted")
    s.ok(["resource", "provider", "delete", u], fmt_json=False)
    s.ok(["resource", "class", "delete", cls], fmt_json=False)
    s.ok(["resource", "class", "delete", cls + "_2"], fmt_json=False)
    s.ok(["resource", "class", "list"], contains_none("name", [cls, cls + "_2"]))


# --------------------------------------------------------------------------------------------
# The devstack0 tree at one microversion


class Tree:
    def __init__(self, host):
        self.host = host
        self.ovs_name = host + ":Open vSwitch agent"
        self.sriov_name = host + ":NIC Switch agent"
        self.ovs = str(uuid.uuid5(NS_OVS, host))
        self.sriov = str(uuid.uuid5(NS_SRIOV, host))
        self.devices = {  # name -> (uuid, parent uuid, inventory, traits)
            "br-test": (str(uuid.uuid5(NS_OVS, host + ":br-test")), self.ovs,
                        {EGR: 1500, IGR: 1500}, [PHYSNET0, NORMAL, DIRECT]),
            "br-ex": (str(uuid.uuid5(NS_OVS, host + ":br-ex")), self.ovs,
                      {IGR: 1}, [PUBLIC, NORMAL, DIRECT]),
            "ens5": (str(uuid.uuid5(NS_SRIOV, host + ":ens5")), self.sriov,
                     {EGR: 100000, IGR: 100000}, [PHYSNET0, DIRECT, DIRECT_PHYSICAL, MACVTAP]),
        }
        self.root = None

    def agent_name(self, device):
        return (self.ovs_name if self.devices[device][1] == self.ovs else self.sriov_name)

    def device_name(self, device):
        return self.agent_name(device) + ":" + device

    def uuid(self, device):
        return self.devices[device][0]

    def all_names(self):
        return [self.host, self.ovs_name, self.sriov_name] + [
            self.device_name(d) for d in self.devices]


def device_inventory_args(inventory):
    """Neutron's style: total, max_unit = total, and the explicit defaults."""
    args = []
    for rc, total in inventory.items():
        args += ["--resource", "%s=%d" % (rc, total),
                 "--resource", "%s:max_unit=%d" % (rc, total),
                 "--resource", "%s:min_unit=1" % rc,
                 "--resource", "%s:step_size=1" % rc,
                 "--resource", "%s:reserved=0" % rc,
                 "--resource", "%s:allocation_ratio=1.0" % rc]
    return args


def device_inventory_want(inventory):
    return {rc: {"total": total, "max_unit": total} for rc, total in inventory.items()}


def create_devices(s, t, devices):
    for d in devices:
        u, parent, _, _ = t.devices[d]
        s.ok(["resource", "provider", "create", "--uuid", u, "--parent-provider", parent,
              t.device_name(d)],
             fields(uuid=u, name=t.device_name(d), generation=0, parent_provider_uuid=parent,
                    root_provider_uuid=t.root))


def populate_devices(s, t, devices):
    for d in devices:
        u, _, inventory, traits = t.devices[d]
        s.ok(["resource", "provider", "inventory", "set", u] + device_inventory_args(inventory),
             inventory_rows(device_inventory_want(inventory)))
        s.ok(["resource", "provider", "trait", "set", u] +
             [x for trait in traits for x in ("--trait", trait)], same_set("name", traits))


def build_tree(s, t):
    root = s.ok(["resource", "provider", "create", t.host],
                fields(name=t.host, generation=0, parent_provider_uuid=None))
    if root is None:
        raise RuntimeError("cannot create the root provider; the suite stops here")
    t.root = root["uuid"]
    if root.get("root_provider_uuid") != t.root:
        s.fail("[%s] root_provider_uuid of a root" % s.version,
               "root_provider_uuid=%r, want its own uuid %r" % (root.get("root_provider_uuid"),
                                                                 t.root))
    for name, u in ((t.ovs_name, t.ovs), (t.sriov_name, t.sriov)):
        s.ok(["resource", "provider", "create", "--uuid", u, "--parent-provider", t.root, name],
             fields(uuid=u, name=name, generation=0, parent_provider_uuid=t.root,
                    root_provider_uuid=t.root))
    create_devices(s, t, list(t.devices))
    s.ok(["resource", "provider", "inventory", "set", t.root, "--resource", "VCPU=8",
          "--resource", "MEMORY_MB=16384", "--resource", "DISK_GB=100"],
         inventory_rows({"VCPU": {"total": 8}, "MEMORY_MB": {"total": 16384},
                         "DISK_GB": {"total": 100}}))
    populate_devices(s, t, list(t.devices))


def provider_suite(client, version, host, primary):
    s = Suite(client, version, "provider tree %s%s" % (
        host, "" if primary else " (the checks that depend on the microversion)"))
    t = Tree(host)
    project, user = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        run_provider_checks(s, t, project, user, full=primary)
    except Exception as e:  # noqa: BLE001 - reported as a failure, the other suites go on
        s.fail("[%s] suite %s" % (version, host), "aborted: %s: %s" % (type(e).__name__, e))
    return s, t, project, user


def run_provider_checks(s, t, project, user, full):
    """full: every check (the primary microversion, whose tree is kept for the restart checks);
    otherwise the checks whose behaviour or client path changes with the microversion."""
    build_tree(s, t)
    br_test, br_ex, ens5 = t.uuid("br-test"), t.uuid("br-ex"), t.uuid("ens5")

    if full:  # Refusals at creation.
        s.refused(["resource", "provider", "create", t.host], "409", "duplicate name")
        s.refused(["resource", "provider", "create", "--uuid", t.ovs, t.host + "-other"], "409",
                  "duplicate uuid")
        s.refused(["resource", "provider", "create", "--parent-provider", str(uuid.uuid4()),
                   t.host + ":orphan"], "400", "unknown parent")

    # Reading the tree back.
    s.ok(["resource", "provider", "list", "--in-tree", br_test],
         same_set("name", t.all_names()))
    s.ok(["resource", "provider", "show", br_test],
         fields(uuid=br_test, name=t.device_name("br-test"), generation=2,
                parent_provider_uuid=t.ovs, root_provider_uuid=t.root))
    if full:
        s.ok(["resource", "provider", "list", "--in-tree", t.root],
             same_set("name", t.all_names()))
        s.ok(["resource", "provider", "list", "--name", t.device_name("br-test")],
             lambda rows: None if [(r["uuid"], r["parent_provider_uuid"], r["root_provider_uuid"])
                                   for r in rows] == [(br_test, t.ovs, t.root)]
             else "want exactly br-test under the OVS agent")
        s.ok(["resource", "provider", "list", "--uuid", ens5], same_set("uuid", [ens5]))
        s.ok(["resource", "provider", "list", "--in-tree", str(uuid.uuid4())], empty)
        s.ok(["resource", "provider", "show", t.sriov],
             fields(uuid=t.sriov, name=t.sriov_name, generation=0,
                    parent_provider_uuid=t.root, root_provider_uuid=t.root))
        s.refused(["resource", "provider", "show", str(uuid.uuid4())], "404")

    # Inventories.
    s.ok(["resource", "provider", "inventory", "list", br_test],
         inventory_rows(device_inventory_want({EGR: 1500, IGR: 1500}), used={}))
    if full:
        s.ok(["resource", "provider", "inventory", "list", br_ex],
             inventory_rows(device_inventory_want({IGR: 1}), used={}))
        s.ok(["resource", "provider", "inventory", "show", ens5, EGR],
             fields(total=100000, max_unit=100000, min_unit=1, step_size=1, reserved=0,
                    allocation_ratio=1.0, used=0))
        s.refused(["resource", "provider", "inventory", "show", br_ex, EGR], "404",
                  "br-ex has no egress inventory")
        s.ok(["resource", "provider", "inventory", "list", t.ovs], empty)
        s.ok(["resource", "provider", "inventory", "set", t.root, "--amend",
              "--resource", "VCPU:allocation_ratio=4.0", "--resource", "VCPU:reserved=1"],
             inventory_rows({"VCPU": {"total": 8, "allocation_ratio": 4.0, "reserved": 1},
                             "MEMORY_MB": {"total": 16384}, "DISK_GB": {"total": 100}}))
        s.ok(["resource", "provider", "inventory", "class", "set", t.root, "DISK_GB",
              "--total", "200", "--reserved", "10", "--step_size", "5"],
             fields(total=200, reserved=10, step_size=5, min_unit=1, max_unit=MAX_INT,
                    allocation_ratio=1.0))
        s.ok(["resource", "provider", "inventory", "delete", t.root, "--resource-class",
              "DISK_GB"], fmt_json=False)
        s.ok(["resource", "provider", "inventory", "list", t.root],
             inventory_rows({"VCPU": {"total": 8, "allocation_ratio": 4.0, "reserved": 1},
                             "MEMORY_MB": {"total": 16384}}, used={}))
        s.refused(["resource", "provider", "inventory", "set", br_ex, "--resource",
                   "CUSTOM_NO_SUCH=1"], "400", "unknown resource class")
        s.refused(["resource", "provider", "inventory", "set", br_ex, "--resource", IGR + "=0"],
                  "400", "total must be >= 1")
        # All inventories of a provider (1.5+), then back.
        s.ok(["resource", "provider", "inventory", "delete", br_ex], fmt_json=False)
        s.ok(["resource", "provider", "inventory", "list", br_ex], empty)
        s.ok(["resource", "provider", "inventory", "set", br_ex] +
             device_inventory_args({IGR: 1}), inventory_rows(device_inventory_want({IGR: 1})))
        # Generations: br-ex saw inventory set, traits set, inventory delete, inventory set.
        s.ok(["resource", "provider", "show", br_ex], fields(generation=4))

    # Provider traits and trait filters.
    s.ok(["resource", "provider", "trait", "list", ens5],
         same_set("name", [PHYSNET0, DIRECT, DIRECT_PHYSICAL, MACVTAP]))
    if full:
        s.ok(["resource", "provider", "trait", "list", t.sriov], empty)
        s.refused(["resource", "provider", "trait", "set", br_ex, "--trait",
                   "CUSTOM_NO_SUCH_TRAIT"], "400", "unknown trait")
        s.ok(["resource", "provider", "trait", "delete", br_ex], fmt_json=False)
        s.ok(["resource", "provider", "trait", "list", br_ex], empty)
        s.ok(["resource", "provider", "trait", "set", br_ex, "--trait", PUBLIC, "--trait", NORMAL,
              "--trait", DIRECT], same_set("name", [PUBLIC, NORMAL, DIRECT]))
    tree = ["--in-tree", t.root]
    if s.ge("1.18"):
        s.ok(["resource", "provider", "list", "--required", PHYSNET0] + tree,
             same_set("uuid", [br_test, ens5]))
        s.ok(["resource", "provider", "list", "--required", PHYSNET0, "--required", NORMAL] + tree,
             same_set("uuid", [br_test]))
    if s.ge("1.22"):
        s.ok(["resource", "provider", "list", "--required", NORMAL, "--forbidden", PUBLIC] + tree,
             same_set("uuid", [br_test]))
        if full:
            s.ok(["resource", "provider", "list", "--forbidden", DIRECT] + tree,
                 same_set("uuid", [t.root, t.ovs, t.sriov]))
    if s.ge("1.39"):
        s.ok(["resource", "provider", "list", "--required", "%s,%s" % (PUBLIC, MACVTAP)] + tree,
             same_set("uuid", [br_ex, ens5]))
    s.ok(["resource", "provider", "list", "--resource", EGR + "=2000"] + tree,
         same_set("uuid", [ens5]))  # br-test: max_unit 1500
    if full:
        s.ok(["resource", "provider", "list", "--resource", EGR + "=1000"] + tree,
             same_set("uuid", [br_test, ens5]))
        s.ok(["resource", "provider", "list", "--resource", EGR + "=1000",
              "--resource", IGR + "=1000"] + tree, same_set("uuid", [br_test, ens5]))

    # Aggregates: 1.19+ needs the generation and bumps it; before, neither.
    agg1, agg2 = str(uuid.uuid4()), str(uuid.uuid4())
    gen = s.ok(["resource", "provider", "show", t.root])
    gen = gen["generation"] if gen else 0
    if s.ge("1.19"):
        s.ok(["resource", "provider", "aggregate", "set", t.root, "--aggregate", agg1,
              "--aggregate", agg2, "--generation", str(gen)], same_set("uuid", [agg1, agg2]))
        s.refused(["resource", "provider", "aggregate", "set", t.root, "--aggregate", agg1,
                   "--generation", str(gen)], "409", "stale generation")
        gen += 1
    else:
        s.ok(["resource", "provider", "aggregate", "set", t.root, "--aggregate", agg1,
              "--aggregate", agg2], same_set("uuid", [agg1, agg2]))
    s.ok(["resource", "provider", "aggregate", "list", t.root], same_set("uuid", [agg1, agg2]))
    s.ok(["resource", "provider", "show", t.root], fields(generation=gen))
    if full:
        s.ok(["resource", "provider", "list", "--member-of", agg2], same_set("uuid", [t.root]))
        s.ok(["resource", "provider", "list", "--member-of", "%s,%s" % (agg1, uuid.uuid4())],
             same_set("uuid", [t.root]))
        s.ok(["resource", "provider", "aggregate", "list", t.ovs], empty)

    # Allocations: vm0 (2 VCPU + 1000/1000 on br-test), then vm1 does not fit.
    vm0, vm1 = str(uuid.uuid4()), str(uuid.uuid4())
    ctype = ["--consumer-type", "INSTANCE"] if s.ge("1.38") else []
    who = ["--project-id", project, "--user-id", user] + ctype
    want_type = "INSTANCE" if s.ge("1.38") else None
    before = s.ok(["resource", "provider", "show", br_test])
    gens = {br_test: before["generation"] + 1} if before else None
    s.ok(["resource", "provider", "allocation", "set", vm0,
          "--allocation", "rp=%s,VCPU=2,MEMORY_MB=1024" % t.root,
          "--allocation", "rp=%s,%s=1000,%s=1000" % (br_test, EGR, IGR)] + who,
         allocation_rows({t.root: {"VCPU": 2, "MEMORY_MB": 1024},
                          br_test: {EGR: 1000, IGR: 1000}}, project, user, want_type, gens))
    s.ok(["resource", "provider", "allocation", "show", vm0],
         allocation_rows({t.root: {"VCPU": 2, "MEMORY_MB": 1024},
                          br_test: {EGR: 1000, IGR: 1000}}, project, user, want_type))
    s.ok(["resource", "provider", "usage", "show", br_test], usage_rows({EGR: 1000, IGR: 1000}))
    want_usage = {"VCPU": 2, "MEMORY_MB": 1024, EGR: 1000, IGR: 1000}
    if s.ge("1.38"):
        want_usage = {"INSTANCE": dict(want_usage, consumer_count=1)}
    s.ok(["resource", "usage", "show", project], usage_rows(want_usage))
    if full:
        s.ok(["resource", "provider", "usage", "show", ens5], usage_rows({EGR: 0, IGR: 0}))
        s.ok(["resource", "provider", "usage", "show", t.ovs], empty)
        s.ok(["resource", "provider", "inventory", "list", br_test],
             inventory_rows(device_inventory_want({EGR: 1500, IGR: 1500}),
                            used={EGR: 1000, IGR: 1000}))
        s.ok(["resource", "provider", "show", br_test, "--allocations"],
             lambda d: None if d["allocations"].get(vm0, {}).get("resources") == {
                 EGR: 1000, IGR: 1000} else "allocations of br-test do not show vm0's 1000/1000")
        s.ok(["resource", "usage", "show", project, "--user-id", user], usage_rows(want_usage))
        s.ok(["resource", "usage", "show", uuid.uuid4().hex], empty)
    s.refused(["resource", "provider", "allocation", "set", vm1,
               "--allocation", "rp=%s,%s=1000,%s=1000" % (br_test, EGR, IGR)] + who,
              "409", "br-test has only 500 kbit/s left")
    if full:
        s.ok(["resource", "provider", "allocation", "show", vm1], empty)
        s.refused(["resource", "provider", "allocation", "set", vm1,
                   "--allocation", "rp=%s,%s=1000" % (br_ex, EGR)] + who,
                  "409", "br-ex has no egress inventory")
        s.ok(["resource", "provider", "usage", "show", br_test],
             usage_rows({EGR: 1000, IGR: 1000}))
    # Replace vm0's allocations (1.28+: the client sends the consumer generation it read).
    s.ok(["resource", "provider", "allocation", "set", vm0,
          "--allocation", "rp=%s,VCPU=4,MEMORY_MB=1024" % t.root,
          "--allocation", "rp=%s,%s=500,%s=500" % (br_test, EGR, IGR),
          "--allocation", "rp=%s,%s=2000" % (ens5, EGR)] + who,
         allocation_rows({t.root: {"VCPU": 4, "MEMORY_MB": 1024},
                          br_test: {EGR: 500, IGR: 500}, ens5: {EGR: 2000}},
                         project, user, want_type))
    if full:  # In use: refusals.
        s.refused(["resource", "provider", "delete", br_test], "409", "provider has allocations")
        s.refused(["resource", "provider", "inventory", "delete", br_test, "--resource-class",
                   EGR], "409", "inventory in use")
        s.refused(["resource", "provider", "inventory", "set", br_test, "--resource",
                   IGR + "=1500"], "409", "removing an inventory in use")
    # Unset parts, then all.
    s.ok(["resource", "provider", "allocation", "unset", vm0, "--provider", ens5],
         allocation_rows({t.root: {"VCPU": 4, "MEMORY_MB": 1024}, br_test: {EGR: 500, IGR: 500}},
                         project, user))
    s.ok(["resource", "provider", "allocation", "unset", vm0, "--resource-class", "MEMORY_MB",
          "--resource-class", IGR],
         allocation_rows({t.root: {"VCPU": 4}, br_test: {EGR: 500}}, project, user))
    s.ok(["resource", "provider", "usage", "show", br_test], usage_rows({EGR: 500, IGR: 0}))
    if s.ge("1.28"):
        # Removing everything is a PUT of {} with the consumer generation.
        s.ok(["resource", "provider", "allocation", "unset", vm0], empty)
    else:
        s.ok(["resource", "provider", "allocation", "delete", vm0], fmt_json=False)
    s.ok(["resource", "provider", "allocation", "show", vm0], empty)
    if full:
        s.refused(["resource", "provider", "allocation", "delete", vm0], "404",
                  "nothing allocated")
        # vm1 fits now; delete it with DELETE.
        s.ok(["resource", "provider", "allocation", "set", vm1,
              "--allocation", "rp=%s,%s=1000,%s=1000" % (br_test, EGR, IGR)] + who,
             allocation_rows({br_test: {EGR: 1000, IGR: 1000}}, project, user, want_type))
        s.ok(["resource", "provider", "allocation", "delete", vm1], fmt_json=False)
    s.ok(["resource", "provider", "usage", "show", br_test], usage_rows({EGR: 0, IGR: 0}))
    s.ok(["resource", "usage", "show", project], empty)

    # Rename (no generation bump), re-parent (1.37+ only).
    ex_name = t.device_name("br-ex")
    if full:
        ex_gen = s.ok(["resource", "provider", "show", br_ex])
        ex_gen = ex_gen["generation"] if ex_gen else None
        s.ok(["resource", "provider", "set", br_ex, "--name", ex_name + "-renamed"],
             fields(name=ex_name + "-renamed", generation=ex_gen, parent_provider_uuid=t.ovs))
        s.ok(["resource", "provider", "set", br_ex, "--name", ex_name, "--parent-provider",
              t.ovs], fields(name=ex_name, parent_provider_uuid=t.ovs, root_provider_uuid=t.root))
        s.refused(["resource", "provider", "set", br_ex, "--name", t.sriov_name], "409",
                  "duplicate name")
    if s.ge("1.37"):
        s.ok(["resource", "provider", "set", br_ex, "--name", ex_name, "--parent-provider",
              t.sriov], fields(parent_provider_uuid=t.sriov, root_provider_uuid=t.root))
        if full:
            s.refused(["resource", "provider", "set", t.sriov, "--name", t.sriov_name,
                       "--parent-provider", br_ex], "400", "a loop")
        s.ok(["resource", "provider", "set", br_ex, "--name", ex_name, "--parent-provider",
              t.ovs], fields(parent_provider_uuid=t.ovs, root_provider_uuid=t.root))
    else:
        s.refused(["resource", "provider", "set", br_ex, "--name", ex_name, "--parent-provider",
                   t.sriov], "400", "re-parenting needs 1.37")

    # Deletion: parents with children are refused; children first.
    s.refused(["resource", "provider", "delete", t.ovs], "409", "has children")
    if not full:
        delete_tree(s, t)
        return
    s.refused(["resource", "provider", "delete", t.root], "409", "has children")
    s.ok(["resource", "provider", "list", "--in-tree", t.root], same_set("name", t.all_names()))
    # Self-healing, as the agent does it: delete the OVS agent's providers children first,
    # re-create them with the same uuids, traits and inventories.
    for d in ("br-test", "br-ex"):
        s.ok(["resource", "provider", "delete", t.uuid(d)], fmt_json=False)
    s.ok(["resource", "provider", "delete", t.ovs], fmt_json=False)
    s.ok(["resource", "provider", "list", "--in-tree", t.root],
         same_set("name", [t.host, t.sriov_name, t.device_name("ens5")]))
    s.ok(["resource", "provider", "create", "--uuid", t.ovs, "--parent-provider", t.root,
          t.ovs_name], fields(uuid=t.ovs, generation=0, root_provider_uuid=t.root))
    create_devices(s, t, ["br-test", "br-ex"])
    populate_devices(s, t, ["br-test", "br-ex"])
    s.ok(["resource", "provider", "list", "--in-tree", t.root], same_set("name", t.all_names()))
    # vm0 as in the scenario, kept across the restart.
    s.ok(["resource", "provider", "allocation", "set", vm0,
          "--allocation", "rp=%s,%s=1000,%s=1000" % (br_test, EGR, IGR)] + who,
         allocation_rows({br_test: {EGR: 1000, IGR: 1000}}, project, user, want_type))
    t.vm0 = vm0
    t.aggregates = [agg1, agg2]


def delete_tree(s, t):
    for d in t.devices:
        s.ok(["resource", "provider", "delete", t.uuid(d)], fmt_json=False)
    s.ok(["resource", "provider", "delete", t.ovs], fmt_json=False)
    s.ok(["resource", "provider", "delete", t.sriov], fmt_json=False)
    s.ok(["resource", "provider", "delete", t.root], fmt_json=False)
    s.refused(["resource", "provider", "show", t.root], "404", "deleted")
    s.ok(["resource", "provider", "list", "--name", t.host], empty)


def after_restart_checks(s, t, project, user):
    br_test, ens5 = t.uuid("br-test"), t.uuid("ens5")
    s.ok(["resource", "provider", "list", "--in-tree", t.root], same_set("name", t.all_names()))
    s.ok(["resource", "provider", "show", br_test],
         fields(parent_provider_uuid=t.ovs, root_provider_uuid=t.root, generation=3))
    s.ok(["resource", "provider", "inventory", "list", br_test],
         inventory_rows(device_inventory_want({EGR: 1500, IGR: 1500}),
                        used={EGR: 1000, IGR: 1000}))
    s.ok(["resource", "provider", "trait", "list", ens5],
         same_set("name", [PHYSNET0, DIRECT, DIRECT_PHYSICAL, MACVTAP]))
    s.ok(["resource", "provider", "aggregate", "list", t.root], same_set("uuid", t.aggregates))
    s.ok(["resource", "provider", "allocation", "show", t.vm0],
         allocation_rows({br_test: {EGR: 1000, IGR: 1000}}, project, user,
                         "INSTANCE" if s.ge("1.38") else None))
    s.ok(["trait", "list", "--name", "startswith:CUSTOM_"], same_set("name", SCENARIO_TRAITS))
    # The consumer generation survived: the client's read-then-write succeeds.
    s.ok(["resource", "provider", "allocation", "unset", t.vm0], empty)
    s.ok(["resource", "provider", "usage", "show", br_test], usage_rows({EGR: 0, IGR: 0}))
    delete_tree(s, t)
    for trait in SCENARIO_TRAITS:
        s.ok(["trait", "delete", trait], fmt_json=False)
    s.ok(["resource", "provider", "list"], empty)
    s.ok(["trait", "list", "--name", "startswith:CUSTOM_"], empty)


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", help="path of the bwfloor-server binary")
    ap.add_argument("--endpoint", help="instead of --server: test this running Placement "
                    "(e.g. the real one at http://127.0.0.1:18778); no restart checks")
    ap.add_argument("--openstack", default="/usr/bin/openstack")
    ap.add_argument("--versions", default=DEFAULT_VERSIONS,
                    help="comma-separated microversions for the provider suites")
    ap.add_argument("--jobs", type=int, default=2, help="provider suites run concurrently")
    ap.add_argument("--client", choices=("fork", "exec"), default="fork",
                    help="fork: run /usr/bin/openstack's script in a fresh fork of an interpreter "
                    "that imported the client once (fast); exec: a new process per command")
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (DB, logs)")
    args = ap.parse_args()
    if bool(args.server) == bool(args.endpoint):
        ap.error("give one of --server and --endpoint")

    server = client = None

    def on_signal(signum, _frame):
        # A SIGTERM (e.g. from CTest) or ^C: the suites stop at their next command, the server
        # is killed and the finally below removes the temp dir.
        ABORT.set()
        if server is not None:
            server.kill()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not os.access(args.openstack, os.X_OK):
        print("FAIL  %s is not installed (python3-openstackclient + python3-osc-placement)"
              % args.openstack)
        return 1
    versions = [v.strip() for v in args.versions.split(",") if v.strip()]
    primary = max(versions, key=vtuple)
    workdir = tempfile.mkdtemp(prefix="bwfloor-osc-")
    if args.endpoint:
        server = ExternalServer(args.endpoint)
    else:
        server = Server(os.path.abspath(args.server), workdir)
    report = Report()
    started = time.monotonic()
    try:
        if args.server:
            err = server.start()
            if err:
                print("FAIL  start %s: %s" % (args.server, err))
                return 1
            print("bwfloor-server pid %d at %s (db %s)" % (server.proc.pid, server.endpoint,
                                                            server.db))
        print("client: %s --os-auth-type admin_token --os-token admin --os-endpoint %s "
              "--os-placement-api-version X ... [-f json]   (--client %s)"
              % (args.openstack, server.endpoint, args.client))
        client = Client(args.openstack, server, args.client, workdir)

        pre = Suite(client, primary, "the scenario's custom traits")
        scenario_traits(pre)
        report.flush(pre)

        def global_suite():
            g = Suite(client, primary, "resource classes and traits")
            try:
                global_checks(g)
            except Exception as e:  # noqa: BLE001
                g.fail("[%s] global checks" % primary, "aborted: %s: %s" % (type(e).__name__, e))
            return g, None, None, None

        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            # Longest first: the primary suite, then the global checks, then the others.
            order = [primary] + [v for v in versions if v != primary]
            futures = {pool.submit(provider_suite, client, order[0], "devstack0", True): order[0],
                       pool.submit(global_suite): None}
            for v in order[1:]:
                futures[pool.submit(provider_suite, client, v, "devstack0-v" + v, False)] = v
            for fut in concurrent.futures.as_completed(futures):
                s, t, project, user = fut.result()
                if futures[fut] is not None:
                    results[futures[fut]] = (t, project, user)
                report.flush(s)

        if args.endpoint:  # no restart: read the kept tree back and clean up
            r = Suite(client, primary, "read back and clean up")
            t, project, user = results[primary]
            try:
                after_restart_checks(r, t, project, user)
            except Exception as e:  # noqa: BLE001
                r.fail("[%s] read back" % primary, "aborted: %s: %s" % (type(e).__name__, e))
            report.flush(r)
            return summary(report, started)

        # Persistence: clean stop, restart on the same database, read the kept tree back.
        r = Suite(client, primary, "restart on the same database")
        label = "[server] SIGTERM, exit code 0"
        why = server.stop()
        if why is None:
            r.pass_(label)
        else:
            r.fail(label, why)
        err = server.start()
        if err:
            r.fail("[server] restart on %s" % server.db, err)
        else:
            r.pass_("[server] restart on %s: GET / answers at %s" % (server.db, server.endpoint))
            t, project, user = results[primary]
            if getattr(t, "vm0", None):
                try:
                    after_restart_checks(r, t, project, user)
                except Exception as e:  # noqa: BLE001
                    r.fail("[%s] after restart" % primary, "aborted: %s: %s" % (
                        type(e).__name__, e))
            else:
                r.fail("[%s] after restart" % primary, "the devstack0 tree was not kept")
            why = server.stop()
            label = "[server] SIGTERM at the end, exit code 0"
            if why is None:
                r.pass_(label)
            else:
                r.fail(label, why)
        report.flush(r)
    finally:
        if client is not None:
            client.close()
        server.kill()
        if args.keep_tmp:
            print("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    return summary(report, started)


def summary(report, started):
    print("\n%d passed, %d failed in %.0f s" % (report.passed, len(report.failures),
                                                time.monotonic() - started))
    for f in report.failures:
        print("FAILED " + f.split("\n")[0][:300])
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
