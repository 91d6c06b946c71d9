#!/usr/bin/python3
"""Differential test: the real OpenStack Placement 8.0 against bwfloor-server (issue 18).

Starts Debian's python3-placement 8.0 (uwsgi, noauth2, SQLite) and bwfloor-server (noauth2, SQLite)
side by side, sends the same request sequences to both and compares, per request:

  * the status;
  * the headers that matter: content-type, openstack-api-version, vary, location (its path,
    relative to the mount the request used), allow, cache-control, last-modified (presence only)
    and every access-control-* header;
  * the body: JSON compared structurally, with request ids dropped, server-generated uuids
    replaced by <uuid> and links made relative to the mount; error bodies by
    errors[].status/code/title/detail (and min/max_version on a 406).

Sequences cover every route of Placement at several microversions and each item of issue 18; a
persona matrix (system admin/reader, project admin/member/reader) runs under each combination
of [oslo_policy] enforce_scope x enforce_new_defaults and once with a policy file overriding
rules; a CORS suite runs with [cors] configured on both servers. Each configuration is a pair of
servers (real + bwfloor) started once; pairs run concurrently, and within a pair each sequence
runs on both servers at once, steps in order.

Every check prints one line, PASS or DIFF, with its id (sequence/step), microversion and request;
a DIFF also prints both sides' status, headers and body (shortened). Exit status 1 when a DIFF
is not listed in known_differences.txt (one `check-id  # reason` per line), 77 when Placement is
not installed (CTest's SKIP_RETURN_CODE), 2 on a harness error (a server does not start).

  /usr/bin/python3 tests/differential/placement_differential.py --server build/bin/bwfloor-server
  ctest --test-dir build -R placement_differential --output-on-failure
"""

import argparse
import concurrent.futures
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib

HERE = os.path.dirname(os.path.abspath(__file__))
PLACEMENT_API = "/usr/bin/placement-api"
PLACEMENT_MANAGE = "/usr/bin/placement-manage"
PLACEMENT_PKG = "/usr/lib/python3/dist-packages/placement"
SKIP = 77
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ANY_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REQ_ID_RE = re.compile(r"req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LIST_HEADERS = ("vary", "allow", "access-control-allow-methods", "access-control-allow-headers",
                "access-control-expose-headers")
COMPARED_HEADERS = ("content-type", "openstack-api-version", "vary", "location", "allow",
                    "cache-control", "last-modified")

# Every uuid this script makes up (providers, consumers, aggregates): kept as is in bodies.
KNOWN_UUIDS = set()


def U(tag):
    """A fixed uuid per tag (uuid5), the same on both servers and in every run."""
    value = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, "bwfloor-differential/" + tag))
    KNOWN_UUIDS.add(value)
    return value


# --------------------------------------------------------------------------------------------
# Processes and cleanup

CHILDREN = []  # every Popen this script started; killed on exit, Ctrl-C or failure
CHILDREN_LOCK = threading.Lock()


def die_with_parent():
    """preexec_fn: a child gets SIGKILL if this script dies (e.g. killed by a CTest timeout)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def spawn(argv, log_path, env=None, cwd=None):
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=die_with_parent, env=env,
                                cwd=cwd, start_new_session=True)
    with CHILDREN_LOCK:
        CHILDREN.append(proc)
    return proc


def stop_proc(proc, sig=signal.SIGTERM, timeout=10.0):
    """Stops one child (and its process group: uwsgi's workers) by its id."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except OSError:
        pass
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()


def stop_all_children():
    procs = list(CHILDREN)  # no lock: also called from a signal handler
    for proc in procs:
        stop_proc(proc, timeout=5.0)


PORTS_GIVEN = set()


def free_port():
    """A free loopback port, never one this script handed out before: two servers given the same
    port would have the loser's readiness probe answered by the winner."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in PORTS_GIVEN:
            PORTS_GIVEN.add(port)
            return port


def log_tail(path, lines=25):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def wait_ready(proc, port, log_path, deadline_s):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "exited with %d before answering; log:\n%s" % (proc.returncode,
                                                                  log_tail(log_path))
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            if resp.status == 200 and b"versions" in body:
                time.sleep(0.2)  # still running: the answer was its own, not another server's
                if proc.poll() is None:
                    return None
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return "GET / did not answer within %.0f s; log:\n%s" % (deadline_s, log_tail(log_path))


def ini_text(sections):
    out = []
    for section, values in sections.items():
        if not values:
            continue
        out.append("[%s]" % section)
        out.extend("%s = %s" % (k, v) for k, v in values.items())
    return "\n".join(out) + "\n"


class RealPlacement:
    """Placement 8.0 under uwsgi, as ../shared/bench/real_placement.sh starts it, with extra
    configuration ([oslo_policy], [cors]). The database is a copy of one synced template."""

    name = "real"
    mount = ""

    def __init__(self, workdir, template_db, extra):
        self.dir = workdir
        self.extra = extra
        os.makedirs(workdir, exist_ok=True)
        shutil.copy(template_db, os.path.join(workdir, "placement.db"))
        self.proc = None
        self.port = None
        self.log = os.path.join(workdir, "uwsgi.log")

    def start(self):
        sections = {"DEFAULT": {"debug": "False"}, "api": {"auth_strategy": "noauth2"},
                    "placement_database": {
                        "connection": "sqlite:///%s" % os.path.join(self.dir, "placement.db"),
                        "sync_on_startup": "False"}}
        for section, values in self.extra.items():
            sections.setdefault(section, {}).update(values)
        with open(os.path.join(self.dir, "placement.conf"), "w") as f:
            f.write(ini_text(sections))
        error = "not started"
        for _ in range(3):
            self.port = free_port()
            self.proc = spawn(["uwsgi", "--plugin", "python3", "--http11-socket",
                               "127.0.0.1:%d" % self.port, "--wsgi-file", PLACEMENT_API,
                               "--processes", "1", "--threads", "1", "--master", "--die-on-term",
                               "--no-orphans", "--env", "OS_PLACEMENT_CONFIG_DIR=%s" % self.dir,
                               "--disable-logging"], self.log, cwd=self.dir)
            error = yield self.proc, self.port, self.log, 60
            if error is None:
                return
            stop_proc(self.proc)
            if "address already in use" not in log_tail(self.log).lower():
                break
        raise RuntimeError("real Placement: " + error)

    def stop(self):
        stop_proc(self.proc, signal.SIGINT)


class Bwfloor:
    name = "bwfloor"

    def __init__(self, binary, workdir, extra, mount):
        self.binary = binary
        self.dir = workdir
        self.extra = extra
        self.mount = mount  # default mount for sequences that do not say
        os.makedirs(workdir, exist_ok=True)
        self.proc = None
        self.port = None
        self.log = os.path.join(workdir, "server.log")

    def config(self, port):
        sections = {"DEFAULT": {"log_level": "warning"},
                    "api": {"bind": "127.0.0.1:%d" % port, "auth_strategy": "noauth2"},
                    "placement_database": {
                        "connection": "sqlite:///%s" % os.path.join(self.dir, "placement.db")}}
        for section, values in self.extra.items():
            sections.setdefault(section, {}).update(values)
        return ini_text(sections)

    def start(self):
        error = "not started"
        for _ in range(3):
            self.port = free_port()
            path = os.path.join(self.dir, "server.ini")
            with open(path, "w") as f:
                f.write(self.config(self.port))
            self.proc = spawn([self.binary, "--config", path], self.log, cwd=self.dir)
            error = yield self.proc, self.port, self.log, 30
            if error is None:
                return
            stop_proc(self.proc)
            if "in use" not in log_tail(self.log).lower():
                break
        raise RuntimeError("bwfloor-server: " + error)

    def stop(self):
        stop_proc(self.proc)


def start_servers(servers):
    """Starts every server: each start() is a generator that yields (proc, port, log, deadline)
    after spawning and is sent wait_ready's answer. Processes are spawned from this (the main)
    thread, because PR_SET_PDEATHSIG fires when the spawning *thread* ends; the waits run
    concurrently. Returns the error strings."""
    gens = {s: s.start() for s in servers}
    pending = {s: next(g) for s, g in gens.items()}
    errors = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(servers)) as pool:
        while pending:
            futures = {s: pool.submit(wait_ready, *args) for s, args in pending.items()}
            pending = {}
            for s, f in futures.items():
                try:
                    pending[s] = gens[s].send(f.result())
                except StopIteration:
                    pass
                except RuntimeError as e:
                    errors.append(str(e))
    return errors


def sections_not_read(binary, workdir, sections):
    """The config sections bwfloor-server does not read at all. bwfloor ignores a section it
    never consults (and --check-config does not report it), so each section gets a probe key:
    a section bwfloor reads reports the probe as "not an option bwfloor-server reads"."""
    path = os.path.join(workdir, "probe.ini")
    probe = "differential_probe_key"
    with open(path, "w") as f:
        f.write(ini_text(dict({"api": {"auth_strategy": "noauth2"}},
                              **{sec: {probe: "1"} for sec in sections})))
    res = subprocess.run([binary, "--check-config", path], capture_output=True, text=True,
                         timeout=30)
    text = res.stdout + res.stderr
    return [sec for sec in sections if "[%s] %s" % (sec, probe) not in text]


# --------------------------------------------------------------------------------------------
# Requests

PERSONAS = {
    # noauth2: X-Auth-Token is user[:project]; X-Roles as keystone flattens them.
    "admin": {"X-Auth-Token": "admin"},
    "system_admin": {"X-Auth-Token": "sysadmin", "X-Roles": "admin,member,reader",
                     "OpenStack-System-Scope": "all"},
    "system_reader": {"X-Auth-Token": "sysreader", "X-Roles": "reader",
                      "OpenStack-System-Scope": "all"},
    "project_admin": {"X-Auth-Token": "padmin:proj1", "X-Roles": "admin,member,reader",
                      "X-Project-Id": "proj1"},
    "project_member": {"X-Auth-Token": "pmember:proj1", "X-Roles": "member,reader",
                       "X-Project-Id": "proj1"},
    "project_reader": {"X-Auth-Token": "preader:proj1", "X-Roles": "reader",
                       "X-Project-Id": "proj1"},
    "anonymous": {},
}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> value (joined with ", " when repeated)
        self.body = body  # bytes
        self.json = None
        ctype = headers.get("content-type", "")
        if body and "json" in ctype:
            try:
                self.json = json.loads(body)
            except ValueError:
                pass


def do_request(port, method, path, headers, body, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + ", " + v if k in hdrs else v
        return Response(resp.status, hdrs, data)
    except (OSError, http.client.HTTPException) as e:
        return Response(0, {}, ("<connection error: %s>" % type(e).__name__).encode())
    finally:
        conn.close()


def raw_request(port, data, timeout=5):
    """Sends bytes as they are; parses whatever comes back (status 0: the connection was closed
    without an answer)."""
    chunks = []
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(data)
            while True:  # Connection: close: the server closes after its answer
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    chunks.append(b"" if chunks else b"<no answer within %ds>" % timeout)
                    break
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError as e:
        if not chunks:
            return Response(0, {}, ("<connection error: %s>" % type(e).__name__).encode())
    raw = b"".join(chunks)
    if raw.startswith(b"<no answer"):
        return Response(0, {}, raw)
    if not raw:
        return Response(0, {}, b"<connection closed without an answer>")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Response(0, {}, raw[:200])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        hdrs[k] = hdrs[k] + ", " + v.strip() if k in hdrs else v.strip()
    return Response(status, hdrs, body)


# --------------------------------------------------------------------------------------------
# Sequences

class Step:
    def __init__(self, sid, method, path, mv=None, body=None, headers=None, persona="admin",
                 raw=None, sort=(), note="", accept="application/json"):
        self.sid = sid
        self.method = method
        self.path = path  # str, or callable(state) -> str
        self.mv = mv
        self.body = body  # JSON-able (may contain callables), str/bytes as is, or None
        self.headers = headers or {}
        self.persona = persona
        self.raw = raw  # bytes template with {path}: sent over a raw socket
        self.sort = sort  # JSON keys whose lists are compared in any order
        self.note = note
        self.accept = accept


class Seq:
    def __init__(self, name, mount="", note=""):
        self.name = name
        self.mount = mount  # bwfloor's mount for this sequence: "" (root) or "/placement"
        self.note = note
        self.steps = []
        self._ids = set()

    def __call__(self, sid, method, path, **kw):
        if sid in self._ids:
            raise ValueError("duplicate step %s/%s" % (self.name, sid))
        self._ids.add(sid)
        self.steps.append(Step(sid, method, path, **kw))
        return self


class Gen:
    """A placeholder resolved per server: the provider's generation last seen on that server."""

    def __init__(self, rp, delta=0):
        self.rp, self.delta = rp, delta


class CGen:
    """The consumer's generation last seen on that server (None if never seen)."""

    def __init__(self, consumer):
        self.consumer = consumer


def resolve(value, state):
    if isinstance(value, Gen):
        return state["gen"].get(value.rp, 0) + value.delta
    if isinstance(value, CGen):
        return state["cgen"].get(value.consumer)
    if isinstance(value, dict):
        return {resolve(k, state): resolve(v, state) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, state) for v in value]
    if callable(value):
        return value(state)
    return value


RP_PATH_RE = re.compile(r"/resource_providers/([0-9a-f-]{36})(/|$|\?)")
ALLOC_PATH_RE = re.compile(r"/allocations/([0-9a-f-]{36})$")


def capture(state, path, method, resp):
    """Remembers generations the server reported, so later steps can use Gen()/CGen()."""
    body = resp.json
    if not isinstance(body, dict) or resp.status >= 300:
        return
    m = RP_PATH_RE.search(path)

    def provider(obj):
        if isinstance(obj, dict) and "uuid" in obj and "generation" in obj:
            state["gen"][obj["uuid"]] = obj["generation"]

    provider(body)
    for rp in body.get("resource_providers", []) if isinstance(body.get(
            "resource_providers"), list) else []:
        provider(rp)
    if m and "resource_provider_generation" in body:
        state["gen"][m.group(1)] = body["resource_provider_generation"]
    a = ALLOC_PATH_RE.search(path.split("?")[0])
    if a and method == "GET" and "consumer_generation" in body:
        state["cgen"][a.group(1)] = body["consumer_generation"]


# --------------------------------------------------------------------------------------------
# Normalizing and comparing


def norm_json(value, mount, sort_keys, key=None):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "request_id":
                continue
            nk = k if (k in KNOWN_UUIDS or not UUID_RE.match(k)) else "<uuid>"
            out[nk] = norm_json(v, mount, sort_keys, k)
            if key == "mappings" and isinstance(out[nk], list):
                out[nk] = sorted(out[nk], key=str)  # a group's providers: a set
        return out
    if isinstance(value, list):
        items = [norm_json(v, mount, sort_keys, key) for v in value]
        if key in sort_keys:
            items.sort(key=lambda x: x["uuid"] if isinstance(x, dict) and "uuid" in x
                       else json.dumps(x, sort_keys=True))
        return items
    if isinstance(value, str):
        if UUID_RE.match(value) and value not in KNOWN_UUIDS:
            return "<uuid>"
        if key == "href" and mount and value.startswith(mount):
            value = value[len(mount):]
        if key == "detail":
            value = re.sub(r"\s+", " ", value).strip()
        return norm_text(value)
    return value


def norm_text(text):
    """Request ids and uuids this script did not make (server-generated) replaced."""
    text = REQ_ID_RE.sub("<req-id>", text)
    return ANY_UUID_RE.sub(lambda m: m.group(0) if m.group(0) in KNOWN_UUIDS else "<uuid>", text)


def norm_errors(body):
    keep = ("status", "code", "title", "detail", "max_version", "min_version")
    return {"errors": [{k: e.get(k) for k in keep if k in e} if isinstance(e, dict) else e
                       for e in body["errors"]]}


def norm_body(resp, mount, sort_keys):
    if resp.json is not None:
        body = resp.json
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            body = norm_errors(body)
        return norm_json(body, mount, set(sort_keys))
    text = resp.body.decode("utf-8", "replace")
    return re.sub(r"\s+", " ", norm_text(text)).strip()


def norm_headers(resp, mount):
    out = {}
    for h in COMPARED_HEADERS:
        if h not in resp.headers:
            continue
        v = resp.headers[h]
        if h == "last-modified":
            v = "<present>"
        elif h == "location":
            m = re.match(r"^(?:https?://[^/]+)?(.*)$", v)
            v = m.group(1)
            if mount and v.startswith(mount):
                v = v[len(mount):]
            v = norm_text(v)
        elif h == "content-type":
            v = v.lower().replace(" ", "")
        if h in LIST_HEADERS:
            v = ", ".join(sorted({t.strip().lower() for t in v.split(",") if t.strip()}))
        out[h] = v
    for h, v in resp.headers.items():
        if h.startswith("access-control-"):
            if h in LIST_HEADERS:
                v = ", ".join(sorted({t.strip().lower() for t in v.split(",") if t.strip()}))
            out[h] = v
    return out


def short(value, limit=600):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "...(%d chars)" % len(text)


def json_diff(a, b, path=""):
    """The first few places two normalized JSON values differ, as 'path: a != b'."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append("%s.%s: only bwfloor" % (path, k))
            elif k not in b:
                out.append("%s.%s: only real" % (path, k))
            else:
                out.extend(json_diff(a[k], b[k], "%s.%s" % (path, k)))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(json_diff(x, y, "%s[%d]" % (path, i)))
    elif a != b:
        out.append("%s: %s != %s" % (path or "body", short(a, 200), short(b, 200)))
    return out[:6]


# --------------------------------------------------------------------------------------------
# Running


class Check:
    def __init__(self, cid, step, request, real, bw, real_n, bw_n, diffs):
        self.cid = cid
        self.step = step
        self.request = request
        self.real, self.bw = real, bw
        self.real_n, self.bw_n = real_n, bw_n
        self.diffs = diffs


def build_request(step, mount, state):
    path = resolve(step.path, state)
    full = mount + path if path != "/" or not mount else mount
    if step.raw is not None:
        return full, None, None
    headers = dict(PERSONAS[step.persona])
    if step.accept is not None:
        headers["Accept"] = step.accept
    if step.mv:
        headers["OpenStack-API-Version"] = "placement %s" % step.mv
    body = None
    if step.body is not None:
        b = resolve(step.body, state)
        body = b if isinstance(b, bytes) else (b.encode() if isinstance(b, str)
                                               else json.dumps(b).encode())
        headers["Content-Type"] = "application/json"
    for k, v in step.headers.items():
        if v is None:
            headers.pop(k, None)
        else:
            headers[k] = v
    return full, headers, body


def run_side(server, seq, mount):
    state = {"gen": {}, "cgen": {}}
    results = []
    for step in seq.steps:
        path, headers, body = build_request(step, mount, state)
        if step.raw is not None:
            resp = raw_request(server.port, step.raw.replace(b"{path}", path.encode()))
        else:
            resp = do_request(server.port, step.method, path, headers, body)
        capture(state, path, step.method, resp)
        results.append((path, headers, body, resp))
    return results


def compare_seq(pair, seq, pool):
    real, bw = pair
    f_real = pool.submit(run_side, real, seq, "")
    f_bw = pool.submit(run_side, bw, seq, seq.mount)
    r_real, r_bw = f_real.result(), f_bw.result()
    checks = []
    for step, (path, headers, body, a), (_, _, _, b) in zip(seq.steps, r_real, r_bw):
        an = {"status": a.status, "headers": norm_headers(a, ""),
              "body": norm_body(a, "", step.sort)}
        bn = {"status": b.status, "headers": norm_headers(b, seq.mount),
              "body": norm_body(b, seq.mount, step.sort)}
        diffs = []
        if an["status"] == 0 and "Refused" in an["body"] or bn["status"] == 0 and "Refused" in \
                bn["body"]:
            diffs.append("a server does not answer (connection refused)")
        if an["status"] != bn["status"]:
            diffs.append("status %s != %s" % (an["status"], bn["status"]))
        for h in sorted(set(an["headers"]) | set(bn["headers"])):
            if an["headers"].get(h) != bn["headers"].get(h):
                diffs.append("header %s: %r != %r" % (h, an["headers"].get(h),
                                                      bn["headers"].get(h)))
        if an["body"] != bn["body"]:
            if isinstance(an["body"], (dict, list)) and isinstance(bn["body"], (dict, list)):
                diffs.extend("body " + d for d in json_diff(an["body"], bn["body"]))
            else:
                diffs.append("body: %s != %s" % (short(an["body"], 160), short(bn["body"], 160)))
        req = "%s %s" % (step.method, path)
        if step.raw is not None:
            cl = re.search(r"Content-Length:[^\r]*", step.raw.decode("latin-1"))
            req = "RAW %s %s (%s)" % (step.method, path, cl.group(0) if cl else "raw bytes")
        checks.append(Check("%s/%s" % (seq.name, step.sid), step, req, a, b, an, bn, diffs))
    return checks


WEBOB_PREFIXES = ("The server could not comply with the request since it is either malformed or "
                  "otherwise incorrect. ", "There was a conflict when trying to complete your "
                  "request. ", "The resource could not be found. ", "Access was denied to this "
                  "resource. ")


def brief(value, other="", limit=110):
    """A short quote of an error detail (without webob's standard sentence when both sides
    start with it)."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    other = other if isinstance(other, str) else json.dumps(other, sort_keys=True)
    common = len(os.path.commonprefix([text, other]))
    if common > 60:  # start near where the two differ
        text = "..." + text[common - 40:]
    else:
        for prefix in WEBOB_PREFIXES:
            if text.startswith(prefix) and other.startswith(prefix):
                text = "..." + text[len(prefix):]
    return json.dumps(text if len(text) <= limit else text[:limit] + "...")


def summarize(c):
    """One line for known_differences.txt: what differs, real's side first."""
    a, b = c.real_n, c.bw_n
    parts = []
    if a["status"] != b["status"]:
        parts.append("status %s, bwfloor %s" % (a["status"], b["status"]))
    for h in sorted(set(a["headers"]) | set(b["headers"])):
        if a["headers"].get(h) != b["headers"].get(h):
            parts.append("%s: %s, bwfloor %s" % (h, a["headers"].get(h, "absent"),
                                                 b["headers"].get(h, "absent")))
    ab, bb = a["body"], b["body"]

    def detail(body):
        if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
            return body["errors"][0].get("detail")
        return None
    if ab != bb:
        da, db = detail(ab), detail(bb)
        if da is not None and db is not None and a["status"] == b["status"]:
            parts.append("detail %s, bwfloor %s" % (brief(da, db), brief(db, da)))
        elif isinstance(ab, dict) and isinstance(bb, dict) and a["status"] == b["status"]:
            parts.append("body " + "; ".join(json_diff(ab, bb)[:2]))
        else:
            parts.append("body %s, bwfloor %s" % (brief(ab, bb, 100), brief(bb, ab, 100)))
    text = "; ".join(parts)
    return ("%s: %s" % (classify(c), text)).replace("\n", " ")[:400]


def classify(c):
    """The issue item a DIFF belongs to: the step's note, else a guess from what differs."""
    vary_only = c.diffs and all(d.startswith("header vary") for d in c.diffs)
    if c.step.note and c.step.note != "policy" and not vary_only:
        return c.step.note
    name = c.cid.split("/")[0]
    if name.startswith("cors"):
        return "item 12: CORS"
    real = json.dumps(c.real_n["body"])
    if (c.real_n["status"] == 403 or c.bw_n["status"] == 403) and not vary_only:
        return "item 12: policy"
    if name.startswith("policy-") and not vary_only:
        return "item 12: policy (follows from an earlier step of this persona matrix)"
    if "generation" in " ".join(c.diffs) and c.real_n["status"] == c.bw_n["status"] == 200:
        return "item 5: generations"
    if "JSON does not validate" in real or "Invalid query string parameters" in real:
        return "item 2: jsonschema wording"
    if c.real_n["status"] == 405 or c.bw_n["status"] == 405:
        return "item 3: 405"
    if [d for d in c.diffs if not d.startswith("header vary")] == [] and c.diffs:
        return ("no Vary on Placement's %d (raised from handler.py's exception.NotFound / "
                "PolicyNotAuthorized trap, outside the microversion middleware)"
                % c.real_n["status"])
    return "item 3: texts"


def load_known(path):
    known = {}
    if not os.path.exists(path):
        return known
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            cid, _, reason = line.partition("#")
            known[cid.strip()] = reason.strip()
    return known


# --------------------------------------------------------------------------------------------
# The request sequences. Every provider, consumer and aggregate uuid comes from U(tag), names
# and custom classes/traits are unique per sequence, so sequences do not see each other's
# objects in the lists they compare (filters: name, in_tree, member_of, a custom class).

PROJ, USER = "proj1", "user1"
ALL_VERSIONS = ("1.0", "1.14", "1.15", "1.20", "1.26", "1.28", "1.33", "1.36", "1.38", "1.39")

POLICY_FILE = """\
# Overrides for the policy-file run (oslo.policy YAML)
"placement:resource_classes:list": "@"
"placement:traits:list": "role:member"
"placement:resource_providers:show": "!"
"placement:usages": "project_id:%(project_id)s"
"placement:allocation_candidates:list": "role:reader or role:admin"
"placement:resource_providers:inventories:list": "rule:system_reader_api or role:member"
"""

CORS_CONFIG = {
    "allowed_origin": "http://allowed.example",
    "allow_credentials": "True",
    "allow_headers": "X-Auth-Token,OpenStack-API-Version,Content-Type",
    "expose_headers": "OpenStack-API-Version,X-OpenStack-Request-Id",
    "allow_methods": "GET,PUT,POST,DELETE",
    "max_age": "3600",
}

KNOWN_HEADER = """\
# Differences between the real Placement 8.0 and bwfloor-server that placement_differential.py
# observes today (issue 18). One `sequence/step  # reason` per line. Remove a line once fixed:
# the test then fails again if the difference comes back. The reason says which issue item.
"""


def alloc_v1(rp, resources):
    return [{"resource_provider": {"uuid": rp}, "resources": resources}]


def seq_rp_crud_mount():
    """Item 11: through bwfloor's /placement mount; every resource provider route at 1.0."""
    a, c = U("crud-a"), U("crud-c1")
    s = Seq("mount-placement-1.0", mount="/placement")
    s("version-doc", "GET", "/")
    s("version-doc-token", "GET", "/", headers={"X-Auth-Token": None})
    s("version-doc-post", "POST", "/", body={}, note="item 3: 405 body")
    s("no-token", "GET", "/resource_providers", persona="anonymous")
    s("rp-create", "POST", "/resource_providers", mv="1.0", body={"name": "crud-a", "uuid": a})
    s("rp-create-dup-name", "POST", "/resource_providers", mv="1.0",
      body={"name": "crud-a", "uuid": U("crud-b")})
    s("rp-create-dup-uuid", "POST", "/resource_providers", mv="1.0",
      body={"name": "crud-b", "uuid": a})
    s("rp-get", "GET", "/resource_providers/" + a, mv="1.0")
    s("rp-list-name", "GET", "/resource_providers?name=crud-a", mv="1.0")
    s("rp-update", "PUT", "/resource_providers/" + a, mv="1.0", body={"name": "crud-a2"})
    s("rp-update-bad-type", "PUT", "/resource_providers/" + a, mv="1.0", body={"name": 5},
      note="item 2: jsonschema type wording")
    s("inv-post", "POST", "/resource_providers/%s/inventories" % a, mv="1.0",
      body={"resource_class": "VCPU", "total": 8})
    s("inv-list", "GET", "/resource_providers/%s/inventories" % a, mv="1.0")
    s("inv-get", "GET", "/resource_providers/%s/inventories/VCPU" % a, mv="1.0")
    s("inv-put-one", "PUT", "/resource_providers/%s/inventories/VCPU" % a, mv="1.0",
      body={"resource_provider_generation": 1, "total": 16})
    s("inv-put-all", "PUT", "/resource_providers/%s/inventories" % a, mv="1.0",
      body={"resource_provider_generation": 2,
            "inventories": {"VCPU": {"total": 16}, "MEMORY_MB": {"total": 1024}}})
    s("inv-delete-one", "DELETE", "/resource_providers/%s/inventories/MEMORY_MB" % a, mv="1.0")
    s("inv-delete-all-1.0", "DELETE", "/resource_providers/%s/inventories" % a, mv="1.0",
      note="DELETE all inventories only from 1.5")
    s("usages", "GET", "/resource_providers/%s/usages" % a, mv="1.0")
    s("alloc-put", "PUT", "/allocations/" + c, mv="1.0",
      body={"allocations": alloc_v1(a, {"VCPU": 2})})
    s("alloc-get", "GET", "/allocations/" + c, mv="1.0")
    s("rp-allocs", "GET", "/resource_providers/%s/allocations" % a, mv="1.0")
    s("usages-after", "GET", "/resource_providers/%s/usages" % a, mv="1.0")
    s("rp-get-before-del", "GET", "/resource_providers/" + a, mv="1.0")
    s("alloc-delete", "DELETE", "/allocations/" + c, mv="1.0")
    s("rp-get-after-alloc-del", "GET", "/resource_providers/" + a, mv="1.0",
      note="item 5: DELETE /allocations bumps the generation")
    s("alloc-delete-again", "DELETE", "/allocations/" + c, mv="1.0")
    s("alloc-get-none", "GET", "/allocations/" + c, mv="1.0")
    s("aggregates-1.0", "GET", "/resource_providers/%s/aggregates" % a, mv="1.0")
    s("traits-1.0", "GET", "/traits", mv="1.0")
    s("rc-1.0", "GET", "/resource_classes", mv="1.0")
    s("usages-1.0", "GET", "/usages?project_id=" + PROJ, mv="1.0")
    s("ac-1.0", "GET", "/allocation_candidates?resources=VCPU:1", mv="1.0")
    s("patch-405", "PATCH", "/resource_providers/" + a, mv="1.0", body={},
      note="item 3: 405 body")
    s("post-405-rp", "POST", "/resource_providers/" + a, mv="1.0", body={})
    s("delete-405-coll", "DELETE", "/resource_providers", mv="1.0", note="item 3: 405 body")
    s("unknown-route", "GET", "/nothing", mv="1.0")
    s("rp-delete", "DELETE", "/resource_providers/" + a, mv="1.0")
    s("rp-get-deleted", "GET", "/resource_providers/" + a, mv="1.0")
    s("rp-delete-missing", "DELETE", "/resource_providers/" + a, mv="1.0")
    s("rp-create-noname", "POST", "/resource_providers", mv="1.0", body={"uuid": U("crud-d")},
      note="item 2: required")
    s("rp-create-generated", "POST", "/resource_providers", mv="1.20", body={"name": "crud-gen"})
    s("rp-create-1.20", "POST", "/resource_providers", mv="1.20",
      body={"name": "crud-e", "uuid": U("crud-e")})
    s("rp-list-1.20", "GET", "/resource_providers?name=crud-e", mv="1.20")
    return s


def seq_microversions():
    """Version negotiation and headers at each microversion."""
    s = Seq("microversions")
    rp = U("mv-rp")
    s("rp-create", "POST", "/resource_providers", mv="1.20", body={"name": "mv-rp", "uuid": rp})
    for v in ALL_VERSIONS:
        s("rp-get-" + v, "GET", "/resource_providers/" + rp, mv=v)
        s("rp-list-" + v, "GET", "/resource_providers?name=mv-rp", mv=v)
    s("latest", "GET", "/resource_providers/" + rp, mv="latest")
    s("too-high", "GET", "/resource_providers/" + rp, mv="1.40")
    s("bad-string", "GET", "/resource_providers/" + rp, mv="one.two")
    s("major-2", "GET", "/resource_providers/" + rp, mv="2.0")
    s("other-service", "GET", "/resource_providers/" + rp, mv=None,
      headers={"OpenStack-API-Version": "compute 2.1"})
    s("no-header", "GET", "/resource_providers/" + rp)
    s("bad-string-root", "GET", "/", mv="x.y")
    return s


def seq_inventories():
    """Items 1, 2, 3 (inventory bodies, jsonschema wording, unknown class)."""
    s = Seq("inventories")
    rp, c = U("inv-rp"), U("inv-c")
    inv = "/resource_providers/%s/inventories" % rp
    s("rp-create", "POST", "/resource_providers", mv="1.20", body={"name": "inv-rp", "uuid": rp})
    s("post-with-generation", "POST", inv, mv="1.14",
      body={"resource_class": "VCPU", "total": 4, "resource_provider_generation": 0},
      note="item 1: POST inventory with resource_provider_generation")
    s("post-with-bad-generation-type", "POST", inv, mv="1.14",
      body={"resource_class": "DISK_GB", "total": 4, "resource_provider_generation": "0"},
      note="item 2: type wording")
    s("post-minimum", "POST", inv, mv="1.14", body={"resource_class": "DISK_GB", "total": 0},
      note="item 2: minimum wording")
    s("post-maximum", "POST", inv, mv="1.14",
      body={"resource_class": "DISK_GB", "total": 2147483648}, note="item 2: maximum wording")
    s("post-type", "POST", inv, mv="1.14", body={"resource_class": "DISK_GB", "total": "x"},
      note="item 2: type wording")
    s("post-required", "POST", inv, mv="1.14", body={"resource_class": "DISK_GB"},
      note="item 2: required wording")
    s("post-additional", "POST", inv, mv="1.14",
      body={"resource_class": "DISK_GB", "total": 1, "bogus": 1},
      note="item 2: additionalProperties wording")
    s("post-pattern", "POST", inv, mv="1.14", body={"resource_class": "lower", "total": 1},
      note="item 2: pattern wording")
    s("post-ratio-type", "POST", inv, mv="1.14",
      body={"resource_class": "DISK_GB", "total": 1, "allocation_ratio": "x"})
    s("post-not-json", "POST", inv, mv="1.14", body="{not json",
      note="item 2: malformed JSON wording")
    s("post-array", "POST", inv, mv="1.14", body=[1], note="item 2: type object wording")
    s("post-unknown-rc", "POST", inv, mv="1.14", body={"resource_class": "CUSTOM_PONY", "total": 1},
      note="item 3: No such resource class")
    s("post-duplicate", "POST", inv, mv="1.14", body={"resource_class": "VCPU", "total": 4})
    s("post-reserved-gt-total", "POST", inv, mv="1.14",
      body={"resource_class": "DISK_GB", "total": 4, "reserved": 5})
    s("post-min-gt-max", "POST", inv, mv="1.14",
      body={"resource_class": "IPV4_ADDRESS", "total": 4, "min_unit": 3, "max_unit": 2})
    s("post-reserved-eq-total-1.25", "POST", inv, mv="1.25",
      body={"resource_class": "VGPU", "total": 4, "reserved": 4})
    s("post-reserved-eq-total-1.26", "POST", inv, mv="1.26",
      body={"resource_class": "VGPU", "total": 4, "reserved": 4})
    s("get-all", "GET", inv, mv="1.26")
    s("put-one-with-generation", "PUT", inv + "/VCPU", mv="1.26",
      body={"resource_provider_generation": Gen(rp), "total": 6, "reserved": 1,
            "allocation_ratio": 2.0})
    s("put-one-no-generation", "PUT", inv + "/VCPU", mv="1.26", body={"total": 6},
      note="item 2: required wording")
    s("put-one-unknown-rc", "PUT", inv + "/CUSTOM_PONY", mv="1.26",
      body={"resource_provider_generation": Gen(rp), "total": 6}, note="item 3")
    s("put-one-absent", "PUT", inv + "/MEMORY_MB", mv="1.26",
      body={"resource_provider_generation": Gen(rp), "total": 6})
    s("put-one-bad-generation", "PUT", inv + "/VCPU", mv="1.26",
      body={"resource_provider_generation": 99, "total": 6})
    s("put-one-bad-generation-1.22", "PUT", inv + "/VCPU", mv="1.22",
      body={"resource_provider_generation": 99, "total": 6})
    s("put-all-record-generation", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp),
            "inventories": {"VCPU": {"total": 8, "resource_provider_generation": Gen(rp)},
                            "MEMORY_MB": {"total": 2048, "max_unit": 1024}}},
      note="item 1: PUT inventories record with resource_provider_generation")
    s("put-all-no-generation", "PUT", inv, mv="1.26", body={"inventories": {}},
      note="item 2: required wording")
    s("put-all-bad-record", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp), "inventories": {"VCPU": {"total": -1}}},
      note="item 2: minimum wording")
    s("put-all-bad-rc-key", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp), "inventories": {"vcpu": {"total": 1}}},
      note="item 2: pattern wording")
    s("put-all-unknown-rc", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp), "inventories": {"CUSTOM_PONY": {"total": 1}}},
      note="item 3")
    s("put-all-stale", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": 0, "inventories": {}})
    s("get-after", "GET", inv, mv="1.26")
    s("get-one-absent", "GET", inv + "/DISK_GB", mv="1.26")
    s("get-one-unknown-rc", "GET", inv + "/CUSTOM_PONY", mv="1.26")
    s("alloc", "PUT", "/allocations/" + c, mv="1.26",
      body={"allocations": {rp: {"resources": {"VCPU": 4}}}, "project_id": PROJ,
            "user_id": USER})
    s("rp-after-alloc", "GET", "/resource_providers/" + rp, mv="1.26")
    s("put-all-below-usage", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp), "inventories": {"VCPU": {"total": 2}}})
    s("put-all-drop-in-use", "PUT", inv, mv="1.26",
      body={"resource_provider_generation": Gen(rp), "inventories": {"MEMORY_MB": {"total": 2048}}})
    s("delete-in-use", "DELETE", inv + "/VCPU", mv="1.26")
    s("delete-all-in-use", "DELETE", inv, mv="1.26")
    s("delete-all-1.4", "DELETE", inv, mv="1.4")
    s("dealloc", "DELETE", "/allocations/" + c, mv="1.26")
    s("rp-after-dealloc", "GET", "/resource_providers/" + rp, mv="1.26",
      note="item 5: DELETE /allocations bumps the generation")
    s("delete-one", "DELETE", inv + "/MEMORY_MB", mv="1.26")
    s("delete-one-absent", "DELETE", inv + "/MEMORY_MB", mv="1.26")
    s("delete-all", "DELETE", inv, mv="1.26")
    s("get-empty", "GET", inv, mv="1.26")
    s("missing-rp-get", "GET", "/resource_providers/%s/inventories" % U("nope"), mv="1.26")
    return s


def seq_errors_accept():
    """Item 4 (error bodies by Accept) and item 6 (400 before 404)."""
    s = Seq("errors")
    missing = U("missing-rp")
    accepts = (("no-accept", None), ("star", "*/*"), ("html", "text/html"),
               ("json", "application/json"), ("text", "text/plain"))
    for tag, accept in accepts:
        s("404-" + tag, "GET", "/resource_providers/" + missing, mv="1.20", accept=accept,
          note="item 4: error body format for this Accept")
        s("400-" + tag, "POST", "/resource_providers", mv="1.20", body={"name": 5},
          accept=accept, note="item 4: error body format for this Accept")
        s("405-" + tag, "DELETE", "/traits", mv="1.20", accept=accept,
          note="item 4: error body format for this Accept")
        s("406-" + tag, "GET", "/resource_providers", mv="9.9", accept=accept,
          note="item 4: error body format for this Accept")
        s("401-" + tag, "GET", "/resource_providers", persona="anonymous", accept=accept)
    # Item 6: the body is checked before the provider is looked up.
    s("order-put-rp", "PUT", "/resource_providers/" + missing, mv="1.20", body={"name": 5},
      note="item 6: 400 (body) before 404 (provider)")
    s("order-post-inv", "POST", "/resource_providers/%s/inventories" % missing, mv="1.20",
      body={}, note="item 6: 400 before 404")
    s("order-put-invs", "PUT", "/resource_providers/%s/inventories" % missing, mv="1.20",
      body={}, note="item 6: 400 before 404")
    s("order-put-inv", "PUT", "/resource_providers/%s/inventories/VCPU" % missing, mv="1.20",
      body={}, note="item 6: 400 before 404")
    s("order-put-aggs", "PUT", "/resource_providers/%s/aggregates" % missing, mv="1.20",
      body={}, note="item 6: 400 before 404")
    s("order-put-traits", "PUT", "/resource_providers/%s/traits" % missing, mv="1.20",
      body={}, note="item 6: 400 before 404")
    s("order-put-alloc", "PUT", "/allocations/" + U("order-c"), mv="1.28", body={},
      note="item 6")
    s("order-put-alloc-missing-rp", "PUT", "/allocations/" + U("order-c"), mv="1.28",
      body={"allocations": {missing: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": None})
    s("order-put-rc", "PUT", "/resource_classes/CUSTOM_ORDER_MISSING", mv="1.2",
      body={"bogus": 1}, note="item 6: 400 before 404")
    s("bad-uuid-path", "GET", "/resource_providers/not-a-uuid", mv="1.20")
    s("bad-uuid-alloc", "GET", "/allocations/not-a-uuid", mv="1.20")
    s("empty-body", "POST", "/resource_providers", mv="1.20", body="",
      note="item 2: malformed JSON wording")
    s("wrong-content-type", "POST", "/resource_providers", mv="1.20", body={"name": "ct"},
      headers={"Content-Type": "text/plain"})
    s("no-content-type", "POST", "/resource_providers", mv="1.20", body={"name": "ct2"},
      headers={"Content-Type": None})
    return s


def seq_resource_classes():
    """Items 3 and 6: resource class texts, PUT with unknown properties."""
    s = Seq("resource-classes")
    rp, c = U("rc-rp"), U("rc-c")
    s("list-1.2", "GET", "/resource_classes", mv="1.2", sort=("resource_classes",))
    s("create", "POST", "/resource_classes", mv="1.2", body={"name": "CUSTOM_DIFF_RC"})
    s("create-dup", "POST", "/resource_classes", mv="1.2", body={"name": "CUSTOM_DIFF_RC"})
    s("create-standard", "POST", "/resource_classes", mv="1.2", body={"name": "VCPU"})
    s("create-no-prefix", "POST", "/resource_classes", mv="1.2", body={"name": "DIFF_RC"},
      note="item 2: pattern wording")
    s("create-additional", "POST", "/resource_classes", mv="1.2",
      body={"name": "CUSTOM_DIFF_RC2", "x": 1}, note="item 2: additionalProperties")
    s("create-long", "POST", "/resource_classes", mv="1.2",
      body={"name": "CUSTOM_" + "A" * 250}, note="item 2: maxLength")
    s("get", "GET", "/resource_classes/CUSTOM_DIFF_RC", mv="1.2")
    s("get-1.15", "GET", "/resource_classes/CUSTOM_DIFF_RC", mv="1.15")
    s("get-standard", "GET", "/resource_classes/VCPU", mv="1.15")
    s("get-missing", "GET", "/resource_classes/CUSTOM_PONY", mv="1.2",
      note="item 3: No such resource class")
    s("put-rename-1.2", "PUT", "/resource_classes/CUSTOM_DIFF_RC", mv="1.2",
      body={"name": "CUSTOM_DIFF_RC_B"})
    s("put-rename-unknown-prop", "PUT", "/resource_classes/CUSTOM_DIFF_RC_B", mv="1.2",
      body={"name": "CUSTOM_DIFF_RC_C", "bogus": 1}, note="item 6: unknown properties")
    s("put-rename-missing", "PUT", "/resource_classes/CUSTOM_PONY", mv="1.2",
      body={"name": "CUSTOM_DIFF_RC_D"}, note="item 3")
    s("put-rename-standard", "PUT", "/resource_classes/VCPU", mv="1.2",
      body={"name": "CUSTOM_DIFF_RC_E"})
    s("put-create-1.7", "PUT", "/resource_classes/CUSTOM_DIFF_PUT", mv="1.7")
    s("put-exists-1.7", "PUT", "/resource_classes/CUSTOM_DIFF_PUT", mv="1.7")
    s("put-body-1.7", "PUT", "/resource_classes/CUSTOM_DIFF_PUT2", mv="1.7",
      body={"bogus": 1}, note="item 6: unknown properties")
    s("put-standard-1.7", "PUT", "/resource_classes/VCPU", mv="1.7")
    s("put-bad-name-1.7", "PUT", "/resource_classes/DIFF_PUT", mv="1.7")
    s("put-create-1.15", "PUT", "/resource_classes/CUSTOM_DIFF_PUT3", mv="1.15")
    s("put-exists-1.15", "PUT", "/resource_classes/CUSTOM_DIFF_PUT3", mv="1.15")
    s("delete-standard", "DELETE", "/resource_classes/VCPU", mv="1.2",
      note="item 3: Error in delete resource class")
    s("delete-missing", "DELETE", "/resource_classes/CUSTOM_PONY", mv="1.2", note="item 3")
    s("rp-create", "POST", "/resource_providers", mv="1.20", body={"name": "rc-rp", "uuid": rp})
    s("inv", "POST", "/resource_providers/%s/inventories" % rp, mv="1.20",
      body={"resource_class": "CUSTOM_DIFF_PUT", "total": 4})
    s("delete-in-inventory", "DELETE", "/resource_classes/CUSTOM_DIFF_PUT", mv="1.2",
      note="item 3: Error in delete resource class")
    s("alloc", "PUT", "/allocations/" + c, mv="1.20",
      body={"allocations": {rp: {"resources": {"CUSTOM_DIFF_PUT": 1}}}, "project_id": PROJ,
            "user_id": USER})
    s("delete-in-use", "DELETE", "/resource_classes/CUSTOM_DIFF_PUT", mv="1.2", note="item 3")
    s("delete", "DELETE", "/resource_classes/CUSTOM_DIFF_PUT3", mv="1.2")
    s("list-1.7", "GET", "/resource_classes", mv="1.7", sort=("resource_classes",))
    return s


def seq_traits():
    """Items 7 and 8: traits, provider traits (order as sent), GET /traits/{name} headers."""
    s = Seq("traits")
    rp = U("trait-rp")
    for v in ("1.6", "1.15", "1.39"):
        s("put-%s" % v, "PUT", "/traits/CUSTOM_DIFFT_%s" % v.replace(".", "_"), mv=v)
        s("put-again-%s" % v, "PUT", "/traits/CUSTOM_DIFFT_%s" % v.replace(".", "_"), mv=v)
        s("get-%s" % v, "GET", "/traits/CUSTOM_DIFFT_%s" % v.replace(".", "_"), mv=v,
          note="item 8: cache-control / last-modified at 1.15+")
        s("get-standard-%s" % v, "GET", "/traits/HW_CPU_X86_AVX", mv=v)
        s("get-missing-%s" % v, "GET", "/traits/CUSTOM_NOPE", mv=v)
    s("put-bad-name", "PUT", "/traits/DIFFT_LOWER_x", mv="1.6")
    s("put-standard", "PUT", "/traits/HW_CPU_X86_AVX", mv="1.6")
    s("list-startswith", "GET", "/traits?name=startswith:CUSTOM_DIFFT", mv="1.6")
    s("list-in", "GET", "/traits?name=in:CUSTOM_DIFFT_1_6,HW_CPU_X86_AVX,CUSTOM_NOPE", mv="1.6")
    s("list-bad-filter", "GET", "/traits?name=CUSTOM_DIFFT", mv="1.6",
      note="item 3: Got: texts")
    s("list-associated", "GET", "/traits?name=startswith:CUSTOM_DIFFT&associated=true", mv="1.6")
    s("list-associated-bad", "GET", "/traits?associated=maybe", mv="1.6")
    s("list-1.15", "GET", "/traits?name=startswith:CUSTOM_DIFFT", mv="1.15")
    s("rp-create", "POST", "/resource_providers", mv="1.20", body={"name": "trait-rp", "uuid": rp})
    tr = "/resource_providers/%s/traits" % rp
    s("rp-traits-empty", "GET", tr, mv="1.6")
    s("rp-traits-put", "PUT", tr, mv="1.6",
      body={"resource_provider_generation": Gen(rp),
            "traits": ["CUSTOM_DIFFT_1_6", "HW_CPU_X86_AVX", "CUSTOM_DIFFT_1_15"]},
      note="item 7: traits in the order sent")
    s("rp-traits-get", "GET", tr, mv="1.6", note="item 7: traits in the order sent")
    s("rp-traits-get-1.15", "GET", tr, mv="1.15")
    s("rp-traits-put-unknown", "PUT", tr, mv="1.6",
      body={"resource_provider_generation": Gen(rp), "traits": ["CUSTOM_NOPE"]})
    s("rp-traits-put-dup", "PUT", tr, mv="1.6",
      body={"resource_provider_generation": Gen(rp), "traits": ["HW_CPU_X86_AVX",
                                                                "HW_CPU_X86_AVX"]},
      note="item 2: uniqueItems wording")
    s("rp-traits-put-stale", "PUT", tr, mv="1.6",
      body={"resource_provider_generation": 99, "traits": []})
    s("rp-traits-put-no-gen", "PUT", tr, mv="1.6", body={"traits": []},
      note="item 2: required wording")
    s("rp-list-required", "GET", "/resource_providers?required=CUSTOM_DIFFT_1_6", mv="1.18")
    s("rp-list-forbidden", "GET",
      "/resource_providers?name=trait-rp&required=!CUSTOM_DIFFT_1_6", mv="1.22")
    s("rp-list-required-1.17", "GET", "/resource_providers?required=CUSTOM_DIFFT_1_6", mv="1.17")
    s("rp-list-any-1.39", "GET",
      "/resource_providers?required=in:CUSTOM_DIFFT_1_6,CUSTOM_NOPE2", mv="1.39")
    s("rp-list-any-1.38", "GET",
      "/resource_providers?required=in:CUSTOM_DIFFT_1_6,CUSTOM_DIFFT_1_15", mv="1.38")
    s("trait-delete-in-use", "DELETE", "/traits/CUSTOM_DIFFT_1_6", mv="1.6")
    s("trait-delete-standard", "DELETE", "/traits/HW_CPU_X86_AVX", mv="1.6")
    s("trait-delete-missing", "DELETE", "/traits/CUSTOM_NOPE", mv="1.6")
    s("rp-traits-delete", "DELETE", tr, mv="1.6")
    s("rp-traits-after-delete", "GET", tr, mv="1.6")
    s("trait-delete", "DELETE", "/traits/CUSTOM_DIFFT_1_6", mv="1.6")
    s("rp-traits-missing-rp", "GET", "/resource_providers/%s/traits" % U("nope"), mv="1.6")
    s("traits-1.5", "GET", "/traits", mv="1.5")
    return s


# GET .../aggregates: Placement's order is the database's (no ORDER BY; it varies with the
# database's state), so GETs compare the aggregates as a set; PUT answers echo the request's order.
AGG_GET_SORT = ("aggregates",)


def seq_aggregates():
    """Item 7 (order as sent), aggregates at 1.1 and 1.19, member_of filters."""
    s = Seq("aggregates")
    rp, rp2 = U("agg-rp"), U("agg-rp2")
    ag1, ag2, ag3 = U("agg-1"), U("agg-2"), U("agg-3")
    # uuid5 values: sent in an order that is not sorted
    first, second = sorted([ag1, ag2], reverse=True)
    s("rp-create", "POST", "/resource_providers", mv="1.20", body={"name": "agg-rp", "uuid": rp})
    s("rp2-create", "POST", "/resource_providers", mv="1.20",
      body={"name": "agg-rp2", "uuid": rp2})
    ag = "/resource_providers/%s/aggregates" % rp
    s("get-empty-1.1", "GET", ag, mv="1.1", sort=AGG_GET_SORT)
    s("put-1.1", "PUT", ag, mv="1.1", body=[first, second], note="item 7: order as sent")
    s("get-1.1", "GET", ag, mv="1.1", sort=AGG_GET_SORT)
    s("put-1.1-dict", "PUT", ag, mv="1.1", body={"aggregates": [first]},
      note="item 2: type wording")
    s("put-1.1-bad-uuid", "PUT", ag, mv="1.1", body=["not-a-uuid"], note="item 2: format")
    s("get-1.19", "GET", ag, mv="1.19", sort=AGG_GET_SORT)
    s("put-1.19", "PUT", ag, mv="1.19",
      body={"aggregates": [second, ag3, first], "resource_provider_generation": Gen(rp)},
      note="item 7: order as sent")
    s("get-1.19-after", "GET", ag, mv="1.19", sort=AGG_GET_SORT)
    s("put-1.19-stale", "PUT", ag, mv="1.19",
      body={"aggregates": [], "resource_provider_generation": 0})
    s("put-1.19-list", "PUT", ag, mv="1.19", body=[first], note="item 2: type wording")
    s("put-1.19-no-gen", "PUT", ag, mv="1.19", body={"aggregates": []},
      note="item 2: required wording")
    s("put-1.19-dup", "PUT", ag, mv="1.19",
      body={"aggregates": [first, first], "resource_provider_generation": Gen(rp)},
      note="item 2: uniqueItems wording")
    s("rp2-put", "PUT", "/resource_providers/%s/aggregates" % rp2, mv="1.19",
      body={"aggregates": [ag3], "resource_provider_generation": Gen(rp2)})
    s("member-of-1.3", "GET", "/resource_providers?member_of=" + first, mv="1.3")
    s("member-of-in", "GET", "/resource_providers?member_of=in:%s,%s" % (first, ag3), mv="1.3",
      sort=("resource_providers",))
    s("member-of-bad", "GET", "/resource_providers?member_of=bogus", mv="1.3",
      note="item 3: Got: texts")
    s("member-of-multi-1.24", "GET",
      "/resource_providers?member_of=%s&member_of=%s" % (first, ag3), mv="1.24")
    s("member-of-multi-1.23", "GET",
      "/resource_providers?member_of=%s&member_of=%s" % (first, ag3), mv="1.23")
    s("member-of-forbidden-1.32", "GET",
      "/resource_providers?member_of=!%s&name=agg-rp2" % first, mv="1.32")
    s("member-of-forbidden-1.31", "GET", "/resource_providers?member_of=!" + first, mv="1.31")
    s("member-of-space", "GET", "/resource_providers?member_of=%20" + first, mv="1.3",
      note="item 10: surrounding whitespace")
    s("get-1.0", "GET", ag, mv="1.0")
    s("missing-rp", "GET", "/resource_providers/%s/aggregates" % U("nope"), mv="1.19")
    s("put-clear", "PUT", ag, mv="1.19",
      body={"aggregates": [], "resource_provider_generation": Gen(rp)})
    return s


def seq_provider_tree():
    """Nested providers: 1.14 parent/root/in_tree, 1.37 re-parenting, deletion order."""
    s = Seq("provider-tree")
    root, child, gchild, other = U("tree-root"), U("tree-child"), U("tree-gchild"), U("tree-o")
    s("root", "POST", "/resource_providers", mv="1.14", body={"name": "tree-root", "uuid": root})
    s("child", "POST", "/resource_providers", mv="1.14",
      body={"name": "tree-child", "uuid": child, "parent_provider_uuid": root})
    s("gchild", "POST", "/resource_providers", mv="1.20",
      body={"name": "tree-gchild", "uuid": gchild, "parent_provider_uuid": child})
    s("other", "POST", "/resource_providers", mv="1.20", body={"name": "tree-o", "uuid": other})
    s("child-parent-1.13", "POST", "/resource_providers", mv="1.13",
      body={"name": "tree-x", "parent_provider_uuid": root}, note="item 2: additionalProperties")
    s("child-missing-parent", "POST", "/resource_providers", mv="1.14",
      body={"name": "tree-y", "parent_provider_uuid": U("nope")})
    s("child-bad-parent", "POST", "/resource_providers", mv="1.14",
      body={"name": "tree-z", "parent_provider_uuid": "nope"}, note="item 2: format wording")
    s("get-gchild", "GET", "/resource_providers/" + gchild, mv="1.14")
    s("in-tree", "GET", "/resource_providers?in_tree=" + child, mv="1.14",
      sort=("resource_providers",))
    s("in-tree-space", "GET", "/resource_providers?in_tree=%20" + child, mv="1.14",
      sort=("resource_providers",), note="item 10: surrounding whitespace")
    s("in-tree-bad", "GET", "/resource_providers?in_tree=bogus", mv="1.14",
      note="item 3: Got: texts")
    s("in-tree-1.13", "GET", "/resource_providers?in_tree=" + child, mv="1.13")
    s("unknown-query", "GET", "/resource_providers?bogus=1", mv="1.14",
      note="item 2: query schema wording")
    s("uuid-filter", "GET", "/resource_providers?uuid=" + child, mv="1.14")
    s("uuid-filter-bad", "GET", "/resource_providers?uuid=bogus", mv="1.14")
    s("reparent-1.14", "PUT", "/resource_providers/" + gchild, mv="1.14",
      body={"name": "tree-gchild", "parent_provider_uuid": root})
    s("unparent-1.36", "PUT", "/resource_providers/" + gchild, mv="1.36",
      body={"name": "tree-gchild", "parent_provider_uuid": None})
    s("reparent-1.37", "PUT", "/resource_providers/" + gchild, mv="1.37",
      body={"name": "tree-gchild", "parent_provider_uuid": root})
    s("reparent-loop-1.37", "PUT", "/resource_providers/" + root, mv="1.37",
      body={"name": "tree-root", "parent_provider_uuid": gchild})
    s("reparent-other-tree-1.37", "PUT", "/resource_providers/" + other, mv="1.37",
      body={"name": "tree-o", "parent_provider_uuid": child})
    s("unparent-1.37", "PUT", "/resource_providers/" + other, mv="1.37",
      body={"name": "tree-o", "parent_provider_uuid": None})
    s("in-tree-after", "GET", "/resource_providers?in_tree=" + root, mv="1.37",
      sort=("resource_providers",))
    s("delete-parent", "DELETE", "/resource_providers/" + root, mv="1.37")
    s("rename-dup", "PUT", "/resource_providers/" + child, mv="1.37",
      body={"name": "tree-root"})
    s("rename-too-long", "PUT", "/resource_providers/" + child, mv="1.37",
      body={"name": "x" * 201}, note="item 2: maxLength wording")
    s("resources-filter", "GET", "/resource_providers?resources=VCPU:1&in_tree=" + root,
      mv="1.14")
    s("resources-filter-1.3", "GET", "/resource_providers?resources=VCPU:1", mv="1.3")
    s("resources-filter-bad", "GET", "/resource_providers?resources=VCPU", mv="1.14",
      note="item 3: Got: texts")
    s("resources-filter-space", "GET",
      "/resource_providers?resources=VCPU:%201&in_tree=" + root, mv="1.14",
      note="item 10: surrounding whitespace")
    s("delete-gchild", "DELETE", "/resource_providers/" + gchild, mv="1.37")
    s("delete-child", "DELETE", "/resource_providers/" + child, mv="1.37")
    s("delete-root", "DELETE", "/resource_providers/" + root, mv="1.37")
    s("list-empty", "GET", "/resource_providers?in_tree=" + root, mv="1.37")
    return s


def seq_allocations():
    """Allocations at 1.0 .. 1.38: formats, consumer generations, POST /allocations, usages."""
    s = Seq("allocations")
    rp, rp2 = U("al-rp"), U("al-rp2")
    c1, c2, c3, c4 = U("al-c1"), U("al-c2"), U("al-c3"), U("al-c4")
    s("rp", "POST", "/resource_providers", mv="1.20", body={"name": "al-rp", "uuid": rp})
    s("rp2", "POST", "/resource_providers", mv="1.20", body={"name": "al-rp2", "uuid": rp2})
    for r in (rp, rp2):
        s("inv-" + r[:8], "PUT", "/resource_providers/%s/inventories" % r, mv="1.20",
          body={"resource_provider_generation": Gen(r),
                "inventories": {"VCPU": {"total": 8}, "MEMORY_MB": {"total": 4096,
                                                                      "step_size": 256}}})
    al = "/allocations/"
    s("put-1.0", "PUT", al + c1, mv="1.0", body={"allocations": alloc_v1(rp, {"VCPU": 1})})
    s("put-1.8-no-project", "PUT", al + c1, mv="1.8",
      body={"allocations": alloc_v1(rp, {"VCPU": 1})}, note="item 2: required wording")
    s("put-1.8", "PUT", al + c1, mv="1.8",
      body={"allocations": alloc_v1(rp, {"VCPU": 1}), "project_id": PROJ, "user_id": USER})
    s("get-1.8", "GET", al + c1, mv="1.8")
    s("put-1.12-list", "PUT", al + c1, mv="1.12",
      body={"allocations": alloc_v1(rp, {"VCPU": 1}), "project_id": PROJ, "user_id": USER},
      note="item 2: type wording")
    s("put-1.12", "PUT", al + c1, mv="1.12",
      body={"allocations": {rp: {"resources": {"VCPU": 2}}, rp2: {"resources": {"VCPU": 1}}},
            "project_id": PROJ, "user_id": USER})
    s("get-1.12", "GET", al + c1, mv="1.12")
    s("put-step", "PUT", al + c2, mv="1.12",
      body={"allocations": {rp: {"resources": {"MEMORY_MB": 100}}}, "project_id": PROJ,
            "user_id": USER})
    s("put-over-capacity", "PUT", al + c2, mv="1.12",
      body={"allocations": {rp: {"resources": {"VCPU": 100}}}, "project_id": PROJ,
            "user_id": USER})
    s("put-zero", "PUT", al + c2, mv="1.12",
      body={"allocations": {rp: {"resources": {"VCPU": 0}}}, "project_id": PROJ,
            "user_id": USER}, note="item 2: minimum wording")
    s("put-no-inventory", "PUT", al + c2, mv="1.12",
      body={"allocations": {rp: {"resources": {"DISK_GB": 1}}}, "project_id": PROJ,
            "user_id": USER})
    s("put-unknown-rc", "PUT", al + c2, mv="1.12",
      body={"allocations": {rp: {"resources": {"CUSTOM_PONY": 1}}}, "project_id": PROJ,
            "user_id": USER}, note="item 3")
    s("put-1.28-no-gen", "PUT", al + c2, mv="1.28",
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER}, note="item 2: required wording")
    s("put-1.28-new", "PUT", al + c2, mv="1.28",
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": None})
    s("get-1.28", "GET", al + c2, mv="1.28")
    s("put-1.28-stale", "PUT", al + c2, mv="1.28",
      body={"allocations": {rp: {"resources": {"VCPU": 2}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": None})
    s("put-1.28-update", "PUT", al + c2, mv="1.28",
      body={"allocations": {rp: {"resources": {"VCPU": 2}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": CGen(c2)})
    s("put-1.28-empty", "PUT", al + c3, mv="1.28",
      body={"allocations": {}, "project_id": PROJ, "user_id": USER,
            "consumer_generation": None})
    s("put-1.38-no-type", "PUT", al + c3, mv="1.38",
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": None}, note="item 2: required wording")
    s("put-1.38", "PUT", al + c3, mv="1.38",
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": None, "consumer_type": "INSTANCE"})
    s("get-1.38", "GET", al + c3, mv="1.38")
    s("put-1.38-bad-type", "PUT", al + c3, mv="1.38",
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER, "consumer_generation": CGen(c3), "consumer_type": "bad type"},
      note="item 2: pattern wording")
    s("rp-allocs-1.38", "GET", "/resource_providers/%s/allocations" % rp, mv="1.38")
    s("rp-usages-1.38", "GET", "/resource_providers/%s/usages" % rp, mv="1.38")
    s("post-1.13", "POST", "/allocations", mv="1.13",
      body={c1: {"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
                 "user_id": USER},
            c4: {"allocations": {rp2: {"resources": {"MEMORY_MB": 512}}}, "project_id": PROJ,
                 "user_id": "user2"}})
    s("post-1.12", "POST", "/allocations", mv="1.12", body={})
    s("post-1.28-no-gen", "POST", "/allocations", mv="1.28",
      body={c4: {"allocations": {}, "project_id": PROJ, "user_id": USER}},
      note="item 2: required wording")
    s("post-1.28-stale", "POST", "/allocations", mv="1.28",
      body={c4: {"allocations": {}, "project_id": PROJ, "user_id": USER,
                 "consumer_generation": 99}})
    s("post-1.38", "POST", "/allocations", mv="1.38",
      body={c4: {"allocations": {rp2: {"resources": {"MEMORY_MB": 256}}}, "project_id": PROJ,
                 "user_id": "user2", "consumer_generation": 1, "consumer_type": "MIGRATION"}})
    s("post-empty", "POST", "/allocations", mv="1.38", body={},
      note="item 2: minProperties wording")
    s("usages-1.9", "GET", "/usages?project_id=" + PROJ, mv="1.9")
    s("usages-user", "GET", "/usages?project_id=%s&user_id=user2" % PROJ, mv="1.9")
    s("usages-no-project", "GET", "/usages", mv="1.9", note="item 2: query schema wording")
    s("usages-1.38", "GET", "/usages?project_id=" + PROJ, mv="1.38")
    s("usages-1.38-type", "GET", "/usages?project_id=%s&consumer_type=INSTANCE" % PROJ,
      mv="1.38")
    s("usages-1.38-all", "GET", "/usages?project_id=%s&consumer_type=all" % PROJ, mv="1.38")
    s("usages-1.38-unknown", "GET", "/usages?project_id=%s&consumer_type=unknown" % PROJ,
      mv="1.38")
    s("usages-1.37-type", "GET", "/usages?project_id=%s&consumer_type=INSTANCE" % PROJ,
      mv="1.37")
    s("rp-generations", "GET", "/resource_providers?name=al-rp", mv="1.38")
    s("delete-c1", "DELETE", al + c1, mv="1.38")
    s("rp-after-delete", "GET", "/resource_providers/" + rp, mv="1.38",
      note="item 5: DELETE /allocations bumps the generation")
    s("rp2-after-delete", "GET", "/resource_providers/" + rp2, mv="1.38",
      note="item 5: DELETE /allocations bumps the generation")
    s("delete-missing", "DELETE", al + c1, mv="1.38")
    s("get-deleted-1.38", "GET", al + c1, mv="1.38")
    s("put-clears", "PUT", al + c2, mv="1.38",
      body={"allocations": {}, "project_id": PROJ, "user_id": USER,
            "consumer_generation": CGen(c2), "consumer_type": "INSTANCE"})
    s("rp-after-clear", "GET", "/resource_providers/" + rp, mv="1.38")
    s("rp-delete-in-use", "DELETE", "/resource_providers/" + rp, mv="1.38")
    return s


def seq_reshaper():
    """Item 5: generations after a reshape (Placement bumps at each step)."""
    s = Seq("reshaper")
    root, child, c = U("rs-root"), U("rs-child"), U("rs-c")
    s("root", "POST", "/resource_providers", mv="1.30", body={"name": "rs-root", "uuid": root})
    s("child", "POST", "/resource_providers", mv="1.30",
      body={"name": "rs-child", "uuid": child, "parent_provider_uuid": root})
    s("root-inv", "PUT", "/resource_providers/%s/inventories" % root, mv="1.30",
      body={"resource_provider_generation": 0,
            "inventories": {"VCPU": {"total": 8}, "DISK_GB": {"total": 100}}})
    s("alloc", "PUT", "/allocations/" + c, mv="1.30",
      body={"allocations": {root: {"resources": {"VCPU": 1, "DISK_GB": 10}}},
            "project_id": PROJ, "user_id": USER, "consumer_generation": None})
    s("gens-before", "GET", "/resource_providers?in_tree=" + root, mv="1.30",
      sort=("resource_providers",))
    reshape = {
        "inventories": {
            root: {"resource_provider_generation": 2, "inventories": {"VCPU": {"total": 8}}},
            child: {"resource_provider_generation": 0,
                    "inventories": {"DISK_GB": {"total": 100}}}},
        "allocations": {
            c: {"allocations": {root: {"resources": {"VCPU": 1}},
                                child: {"resources": {"DISK_GB": 10}}},
                "project_id": PROJ, "user_id": USER, "consumer_generation": 1}}}
    s("reshape-1.29", "POST", "/reshaper", mv="1.29", body=reshape)
    s("reshape-bad", "POST", "/reshaper", mv="1.30", body={"inventories": {}},
      note="item 2: required wording")
    s("reshape-stale", "POST", "/reshaper", mv="1.30",
      body=dict(reshape, inventories={root: {"resource_provider_generation": 0,
                                             "inventories": {"VCPU": {"total": 8}}}}))
    s("reshape", "POST", "/reshaper", mv="1.30", body=reshape)
    s("gens-after", "GET", "/resource_providers?in_tree=" + root, mv="1.30",
      sort=("resource_providers",), note="item 5: generations after a reshape")
    s("alloc-after", "GET", "/allocations/" + c, mv="1.30",
      note="item 5: consumer generation after a reshape")
    s("root-inv-after", "GET", "/resource_providers/%s/inventories" % root, mv="1.30")
    s("child-inv-after", "GET", "/resource_providers/%s/inventories" % child, mv="1.30")
    s("root-inv-literal-gen", "PUT", "/resource_providers/%s/inventories" % root, mv="1.30",
      body={"resource_provider_generation": 4, "inventories": {"VCPU": {"total": 16}}},
      note="item 5: a script using Placement's generation after the reshape")
    reshape38 = {
        "inventories": {
            child: {"resource_provider_generation": Gen(child),
                    "inventories": {"DISK_GB": {"total": 200}}}},
        "allocations": {
            c: {"allocations": {root: {"resources": {"VCPU": 1}},
                                child: {"resources": {"DISK_GB": 20}}},
                "project_id": PROJ, "user_id": USER, "consumer_generation": CGen(c),
                "consumer_type": "INSTANCE"}}}
    s("alloc-before-1.38", "GET", "/allocations/" + c, mv="1.38")
    s("reshape-1.38", "POST", "/reshaper", mv="1.38", body=reshape38)
    s("gens-after-1.38", "GET", "/resource_providers?in_tree=" + root, mv="1.38",
      sort=("resource_providers",), note="item 5: generations after a reshape")
    return s


def seq_allocation_candidates():
    """Allocation candidates: 1.10 .. 1.39, granular groups, same_subtree, errors (item 3),
    whitespace in integers (item 10). Custom classes keep other sequences' providers out."""
    s = Seq("allocation-candidates")
    cn, nic1, nic2, pkt = U("ac-cn"), U("ac-nic1"), U("ac-nic2"), U("ac-pkt")
    agg = U("ac-agg")
    for rc in ("CUSTOM_ACCPU", "CUSTOM_ACBW", "CUSTOM_ACPKT"):
        s("rc-" + rc, "PUT", "/resource_classes/" + rc, mv="1.7")
    for t in ("CUSTOM_ACPHYS_A", "CUSTOM_ACPHYS_B", "CUSTOM_ACCN"):
        s("trait-" + t, "PUT", "/traits/" + t, mv="1.6")
    s("cn", "POST", "/resource_providers", mv="1.20", body={"name": "ac-cn", "uuid": cn})
    s("nic1", "POST", "/resource_providers", mv="1.20",
      body={"name": "ac-nic1", "uuid": nic1, "parent_provider_uuid": cn})
    s("nic2", "POST", "/resource_providers", mv="1.20",
      body={"name": "ac-nic2", "uuid": nic2, "parent_provider_uuid": cn})
    s("pkt", "POST", "/resource_providers", mv="1.20",
      body={"name": "ac-pkt", "uuid": pkt, "parent_provider_uuid": nic1})
    invs = {cn: {"CUSTOM_ACCPU": {"total": 8}}, nic1: {"CUSTOM_ACBW": {"total": 1000}},
            nic2: {"CUSTOM_ACBW": {"total": 1000, "reserved": 100}},
            pkt: {"CUSTOM_ACPKT": {"total": 100}}}
    traits = {cn: ["CUSTOM_ACCN"], nic1: ["CUSTOM_ACPHYS_A"], nic2: ["CUSTOM_ACPHYS_B"]}
    for r, inv in invs.items():
        s("inv-" + r[:8], "PUT", "/resource_providers/%s/inventories" % r, mv="1.20",
          body={"resource_provider_generation": Gen(r), "inventories": inv})
    for r, t in traits.items():
        s("traits-" + r[:8], "PUT", "/resource_providers/%s/traits" % r, mv="1.20",
          body={"resource_provider_generation": Gen(r), "traits": t})
    s("agg-cn", "PUT", "/resource_providers/%s/aggregates" % cn, mv="1.20",
      body={"aggregates": [agg], "resource_provider_generation": Gen(cn)})
    ac = "/allocation_candidates?"
    sort = ("allocation_requests", "resource_providers")
    cases = [
        ("1.10-flat", "1.10", "resources=CUSTOM_ACCPU:2"),
        ("1.10-nested-no", "1.10", "resources=CUSTOM_ACCPU:2,CUSTOM_ACBW:10"),
        ("1.12", "1.12", "resources=CUSTOM_ACCPU:2"),
        ("1.15", "1.15", "resources=CUSTOM_ACCPU:2"),
        ("1.16-limit", "1.16", "resources=CUSTOM_ACBW:10&limit=1"),
        ("1.16-limit-space", "1.16", "resources=CUSTOM_ACCPU:2&limit=%201"),
        ("1.16-limit-trailing-space", "1.16", "resources=CUSTOM_ACCPU:2&limit=1%20"),
        ("1.16-limit-zero", "1.16", "resources=CUSTOM_ACCPU:2&limit=0"),
        ("1.16-limit-bad", "1.16", "resources=CUSTOM_ACCPU:2&limit=x"),
        ("1.17-required", "1.17", "resources=CUSTOM_ACCPU:2&required=CUSTOM_ACCN"),
        ("1.17-required-space", "1.17", "resources=CUSTOM_ACCPU:2&required=%20CUSTOM_ACCN"),
        ("1.17-required-unknown", "1.17", "resources=CUSTOM_ACCPU:2&required=CUSTOM_NOPE"),
        ("1.20", "1.20", "resources=CUSTOM_ACCPU:2"),
        ("1.21-member-of", "1.21", "resources=CUSTOM_ACCPU:2&member_of=" + agg),
        ("1.21-member-of-space", "1.21", "resources=CUSTOM_ACCPU:2&member_of=%20" + agg),
        ("1.22-forbidden", "1.22", "resources=CUSTOM_ACCPU:2&required=!CUSTOM_ACCN"),
        ("1.25-granular", "1.25",
         "resources=CUSTOM_ACCPU:2&resources1=CUSTOM_ACBW:10&required1=CUSTOM_ACPHYS_A"),
        ("1.25-two-groups-no-policy", "1.25",
         "resources1=CUSTOM_ACBW:10&resources2=CUSTOM_ACBW:10"),
        ("1.25-isolate", "1.25",
         "resources1=CUSTOM_ACBW:10&resources2=CUSTOM_ACBW:10&group_policy=isolate"),
        ("1.25-none", "1.25",
         "resources1=CUSTOM_ACBW:10&resources2=CUSTOM_ACBW:10&group_policy=none"),
        ("1.26", "1.26", "resources=CUSTOM_ACCPU:2"),
        ("1.28", "1.28", "resources=CUSTOM_ACCPU:2"),
        ("1.29-nested", "1.29", "resources=CUSTOM_ACCPU:2,CUSTOM_ACBW:10"),
        ("1.29-nested-3", "1.29", "resources=CUSTOM_ACCPU:2,CUSTOM_ACBW:10,CUSTOM_ACPKT:1"),
        ("1.31-in-tree", "1.31", "resources=CUSTOM_ACBW:10&in_tree=" + nic2),
        ("1.31-in-tree-space", "1.31", "resources=CUSTOM_ACBW:10&in_tree=%20" + nic2),
        ("1.31-in-tree-granular", "1.31",
         "resources1=CUSTOM_ACBW:10&in_tree1=" + nic1),
        ("1.33-suffix", "1.33",
         "resources_BW=CUSTOM_ACBW:10&required_BW=CUSTOM_ACPHYS_B&resources=CUSTOM_ACCPU:1"),
        ("1.33-suffix-bad", "1.33", "resources_B-W=CUSTOM_ACBW:10"),
        ("1.32-suffix", "1.32", "resources_BW=CUSTOM_ACBW:10"),
        ("1.34-mappings", "1.34",
         "resources_BW=CUSTOM_ACBW:10&required_BW=CUSTOM_ACPHYS_A&resources=CUSTOM_ACCPU:1"),
        ("1.35-root-required", "1.35", "resources=CUSTOM_ACBW:10&root_required=CUSTOM_ACCN"),
        ("1.35-root-forbidden", "1.35", "resources=CUSTOM_ACBW:10&root_required=!CUSTOM_ACCN"),
        ("1.36-same-subtree", "1.36",
         "resources_BW=CUSTOM_ACBW:10&resources_PKT=CUSTOM_ACPKT:1&"
         "same_subtree=_BW,_PKT&group_policy=none"),
        ("1.36-same-subtree-isolate", "1.36",
         "resources_BW=CUSTOM_ACBW:10&resources_PKT=CUSTOM_ACPKT:1&required_PHYS=CUSTOM_ACPHYS_B&"
         "same_subtree=_BW,_PKT,_PHYS&group_policy=isolate"),
        ("1.36-same-subtree-unknown", "1.36",
         "resources_BW=CUSTOM_ACBW:10&same_subtree=_BW,_NOPE&group_policy=none"),
        ("1.35-same-subtree", "1.35",
         "resources_BW=CUSTOM_ACBW:10&same_subtree=_BW&group_policy=none"),
        ("1.38", "1.38", "resources=CUSTOM_ACCPU:2,CUSTOM_ACBW:10"),
        ("1.39-any", "1.39",
         "resources=CUSTOM_ACBW:10&required=in:CUSTOM_ACPHYS_A,CUSTOM_ACPHYS_B"),
        ("1.38-any", "1.38",
         "resources=CUSTOM_ACBW:10&required=in:CUSTOM_ACPHYS_A,CUSTOM_ACPHYS_B"),
        ("1.39-any-forbidden", "1.39", "resources=CUSTOM_ACBW:10&required=!in:CUSTOM_ACPHYS_A"),
        # errors (item 3: the resources-query texts; item 10: integers)
        ("no-resources-1.10", "1.10", ""),
        ("no-resources-1.33", "1.33", "required=CUSTOM_ACCN"),
        ("resources-no-amount", "1.10", "resources=CUSTOM_ACCPU"),
        ("resources-bad-amount", "1.10", "resources=CUSTOM_ACCPU:x"),
        ("resources-zero", "1.10", "resources=CUSTOM_ACCPU:0"),
        ("resources-negative", "1.10", "resources=CUSTOM_ACCPU:-1"),
        ("resources-empty", "1.10", "resources="),
        ("resources-space", "1.10", "resources=CUSTOM_ACCPU:%201"),
        ("resources-trailing-space", "1.10", "resources=CUSTOM_ACCPU:1%20"),
        ("resources-plus", "1.10", "resources=CUSTOM_ACCPU:%2B1"),
        ("resources-unknown-rc", "1.10", "resources=CUSTOM_PONY:1"),
        ("resources-dup", "1.10", "resources=CUSTOM_ACCPU:1,CUSTOM_ACCPU:2"),
        ("unknown-param", "1.10", "resources=CUSTOM_ACCPU:1&bogus=1"),
        ("bad-group-policy", "1.25",
         "resources1=CUSTOM_ACBW:10&resources2=CUSTOM_ACBW:10&group_policy=bogus"),
        ("orphan-required", "1.25", "resources=CUSTOM_ACCPU:1&required1=CUSTOM_ACCN"),
        ("member-of-bad", "1.21", "resources=CUSTOM_ACCPU:1&member_of=bogus"),
        ("in-tree-bad", "1.31", "resources=CUSTOM_ACCPU:1&in_tree=bogus"),
        ("required-bad", "1.17", "resources=CUSTOM_ACCPU:1&required=lower"),
        ("required-empty", "1.17", "resources=CUSTOM_ACCPU:1&required="),
        ("forbidden-1.21", "1.21", "resources=CUSTOM_ACCPU:1&required=!CUSTOM_ACCN"),
        ("any-nested-1.39", "1.39", "resources=CUSTOM_ACCPU:1&required=in:!CUSTOM_ACCN"),
    ]
    for cid, v, q in cases:
        s("ac-" + cid, "GET", ac + q, mv=v, sort=sort,
          note="item 10: whitespace around integers" if "space" in cid else "")
    return s


def seq_content_length():
    """Item 9: a non-integer Content-Length is a 400, not a dropped connection."""
    s = Seq("content-length")
    head = (b"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: admin\r\n"
            b"Accept: application/json\r\nContent-Type: application/json\r\n"
            b"OpenStack-API-Version: placement 1.20\r\nConnection: close\r\n")
    for tag, cl in (("letters", b"abc"), ("trailing", b"2x"), ("negative", b"-1"),
                    ("plus", b"+2"), ("empty", b"")):
        s("post-" + tag, "POST", "/resource_providers",
          raw=head + b"Content-Length: " + cl + b"\r\n\r\n{}", note="item 9: Content-Length")
    s("post-valid", "POST", "/resource_providers",
      raw=head + b"Content-Length: 2\r\n\r\n{}", note="control")
    return s


# --------------------------------------------------------------------------------------------
# Policy personas

PERSONA_NAMES = ("system_admin", "system_reader", "project_admin", "project_member",
                 "project_reader")


def seq_policy_setup(tag):
    s = Seq("policy-%s-setup" % tag)
    rp, c = U("pol-rp-" + tag), U("pol-c-" + tag)
    kw = dict(mv="1.20", persona="system_admin")
    s("rp", "POST", "/resource_providers", body={"name": "pol-rp-" + tag, "uuid": rp}, **kw)
    s("inv", "PUT", "/resource_providers/%s/inventories" % rp,
      body={"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 64}}}, **kw)
    s("trait", "PUT", "/traits/CUSTOM_POL", **kw)
    s("rp-traits", "PUT", "/resource_providers/%s/traits" % rp,
      body={"resource_provider_generation": 1, "traits": ["CUSTOM_POL"]}, **kw)
    s("rp-aggs", "PUT", "/resource_providers/%s/aggregates" % rp,
      body={"resource_provider_generation": 2, "aggregates": [U("pol-agg")]}, **kw)
    s("alloc", "PUT", "/allocations/" + c,
      body={"allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": PROJ,
            "user_id": USER}, **kw)
    return s


def seq_policy_matrix(tag, persona):
    """One request per route; writes are harmless (a missing object, a stale generation, an
    invalid body after the policy check) or make objects unique to the persona."""
    s = Seq("policy-%s-%s" % (tag, persona), note="policy")
    rp, c = U("pol-rp-" + tag), U("pol-c-" + tag)
    nope = U("nope")
    p = persona.upper()
    kw = dict(persona=persona, mv="1.38", note="item 12: policy")
    R = "/resource_providers"
    s("rp-list", "GET", R + "?name=pol-rp-" + tag, **kw)
    s("rp-create", "POST", R, body={"name": "pol-%s-%s" % (tag, persona)}, **kw)
    s("rp-show", "GET", R + "/" + rp, **kw)
    s("rp-update", "PUT", R + "/" + nope, body={"name": "x"}, **kw)
    s("rp-delete", "DELETE", R + "/" + nope, **kw)
    s("inv-list", "GET", R + "/%s/inventories" % rp, **kw)
    s("inv-create", "POST", R + "/%s/inventories" % nope,
      body={"resource_class": "VCPU", "total": 1}, **kw)
    s("inv-update-all", "PUT", R + "/%s/inventories" % rp,
      body={"resource_provider_generation": 99, "inventories": {}}, **kw)
    s("inv-delete-all", "DELETE", R + "/%s/inventories" % nope, **kw)
    s("inv-show", "GET", R + "/%s/inventories/VCPU" % rp, **kw)
    s("inv-update", "PUT", R + "/%s/inventories/VCPU" % rp,
      body={"resource_provider_generation": 99, "total": 1}, **kw)
    s("inv-delete", "DELETE", R + "/%s/inventories/DISK_GB" % rp, **kw)
    s("rp-usages", "GET", R + "/%s/usages" % rp, **kw)
    s("aggs-list", "GET", R + "/%s/aggregates" % rp, sort=AGG_GET_SORT, **kw)
    s("aggs-update", "PUT", R + "/%s/aggregates" % rp,
      body={"resource_provider_generation": 99, "aggregates": []}, **kw)
    s("rp-allocs", "GET", R + "/%s/allocations" % rp, **kw)
    s("rp-traits-list", "GET", R + "/%s/traits" % rp, **kw)
    s("rp-traits-update", "PUT", R + "/%s/traits" % rp,
      body={"resource_provider_generation": 99, "traits": []}, **kw)
    s("rp-traits-delete", "DELETE", R + "/%s/traits" % nope, **kw)
    s("traits-list", "GET", "/traits?name=in:CUSTOM_POL", **kw)
    s("traits-show", "GET", "/traits/CUSTOM_POL", **kw)
    s("traits-update", "PUT", "/traits/CUSTOM_POL_" + p, **kw)
    s("traits-delete", "DELETE", "/traits/CUSTOM_NOPE", **kw)
    s("rc-list", "GET", "/resource_classes", sort=("resource_classes",), **kw)
    s("rc-create", "POST", "/resource_classes", body={"name": "CUSTOM_POL_%s_%s" % (
        tag.upper().replace("-", "_"), p)}, **kw)
    s("rc-show", "GET", "/resource_classes/VCPU", **kw)
    s("rc-update", "PUT", "/resource_classes/CUSTOM_POLPUT_%s_%s" % (
        tag.upper().replace("-", "_"), p), **kw)
    s("rc-delete", "DELETE", "/resource_classes/CUSTOM_NOPE", **kw)
    s("alloc-list", "GET", "/allocations/" + c, **kw)
    s("alloc-update", "PUT", "/allocations/" + c,
      body={"allocations": {}, "project_id": PROJ, "user_id": USER, "consumer_generation": 99,
            "consumer_type": "INSTANCE"}, **kw)
    s("alloc-delete", "DELETE", "/allocations/" + nope, **kw)
    s("alloc-manage", "POST", "/allocations", body={}, **kw)
    s("usages-own", "GET", "/usages?project_id=" + PROJ, **kw)
    s("usages-other", "GET", "/usages?project_id=other", **kw)
    s("reshaper", "POST", "/reshaper", body={}, **kw)
    s("ac-list", "GET", "/allocation_candidates?resources=VCPU:1&member_of=" + U("pol-agg"),
      sort=("allocation_requests",), **kw)
    return s


def seq_cors():
    """CORS (oslo.middleware's, in Placement's pipeline when [cors] allowed_origin is set)."""
    s = Seq("cors")
    ok, bad = "http://allowed.example", "http://other.example"
    pre = {"Access-Control-Request-Method": "GET"}
    s("simple-root", "GET", "/", headers={"Origin": ok})
    s("simple-allowed", "GET", "/resource_providers?name=none", mv="1.20",
      headers={"Origin": ok})
    s("simple-disallowed", "GET", "/resource_providers?name=none", mv="1.20",
      headers={"Origin": bad})
    s("simple-error", "GET", "/traits/CUSTOM_NOPE", mv="1.20",
      headers={"Origin": ok})
    s("simple-no-token", "GET", "/resource_providers", persona="anonymous",
      headers={"Origin": ok})
    s("preflight-allowed", "OPTIONS", "/resource_providers", persona="anonymous",
      headers=dict(pre, Origin=ok))
    s("preflight-allowed-headers", "OPTIONS", "/resource_providers", persona="anonymous",
      headers=dict(pre, Origin=ok, **{"Access-Control-Request-Headers":
                                      "X-Auth-Token, OpenStack-API-Version"}))
    s("preflight-put", "OPTIONS", "/traits/CUSTOM_X", persona="anonymous",
      headers={"Origin": ok, "Access-Control-Request-Method": "PUT"})
    s("preflight-bad-method", "OPTIONS", "/resource_providers", persona="anonymous",
      headers={"Origin": ok, "Access-Control-Request-Method": "PATCH"})
    s("preflight-bad-header", "OPTIONS", "/resource_providers", persona="anonymous",
      headers=dict(pre, Origin=ok, **{"Access-Control-Request-Headers": "X-Bogus"}))
    s("preflight-bad-origin", "OPTIONS", "/resource_providers", persona="anonymous",
      headers=dict(pre, Origin=bad))
    s("preflight-no-method", "OPTIONS", "/resource_providers", persona="anonymous",
      headers={"Origin": ok})
    s("options-no-origin", "OPTIONS", "/resource_providers", mv="1.20")
    s("preflight-root", "OPTIONS", "/", persona="anonymous", headers=dict(pre, Origin=ok))
    s("preflight-mount", "OPTIONS", "/resource_providers", persona="anonymous",
      headers=dict(pre, Origin=ok))
    return s


def seq_cors_mount():
    s = Seq("cors-mount", mount="/placement")
    ok = "http://allowed.example"
    s("simple-allowed", "GET", "/resource_providers?name=none", mv="1.20",
      headers={"Origin": ok})
    s("preflight-allowed", "OPTIONS", "/resource_providers", persona="anonymous",
      headers={"Origin": ok, "Access-Control-Request-Method": "GET"})
    return s


def configurations(policy_file, skip_policy, skip_cors):
    """Server pairs: name -> {real: extra config, bwfloor: extra config, sequences: [...]}.
    The first pair (the defaults, enforce_scope = enforce_new_defaults = False) also runs every
    functional sequence."""
    functional = [seq_rp_crud_mount(), seq_microversions(), seq_inventories(),
                  seq_errors_accept(), seq_resource_classes(), seq_traits(), seq_aggregates(),
                  seq_provider_tree(), seq_allocations(), seq_reshaper(),
                  seq_allocation_candidates(), seq_content_length()]
    configs = {}
    combos = [(False, False), (True, False), (False, True), (True, True)]
    for scope, new in combos:
        tag = "scope%d-new%d" % (scope, new)
        extra = {}
        if not skip_policy:
            extra = {"oslo_policy": {"enforce_scope": str(scope),
                                     "enforce_new_defaults": str(new)}}
        seqs = []
        if not skip_policy:
            seqs = [seq_policy_setup(tag)] + [seq_policy_matrix(tag, p) for p in PERSONA_NAMES]
        if (scope, new) == (False, False):
            seqs = functional + seqs
        elif skip_policy:
            continue
        configs[tag] = {"real": extra, "bwfloor": extra, "sequences": seqs}
    if not (skip_policy and skip_cors):
        extra, seqs = {}, []
        if not skip_policy:
            tag = "policy-file"
            extra["oslo_policy"] = {"policy_file": policy_file}
            seqs += [seq_policy_setup(tag)] + [seq_policy_matrix(tag, p) for p in PERSONA_NAMES]
        if not skip_cors:
            extra["cors"] = dict(CORS_CONFIG)
            seqs += [seq_cors(), seq_cors_mount()]
        configs["policy-file-cors" if not skip_policy else "cors"] = {
            "real": extra, "bwfloor": extra, "sequences": seqs}
    return configs

# --------------------------------------------------------------------------------------------
# Main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="the bwfloor-server binary")
    parser.add_argument("--known", default=os.path.join(HERE, "known_differences.txt"),
                        help="known differences file (default: next to this script)")
    parser.add_argument("--skip-policy", action="store_true",
                        help="skip the policy persona suites (enforce_scope x "
                             "enforce_new_defaults, policy file)")
    parser.add_argument("--skip-cors", action="store_true", help="skip the CORS suite")
    parser.add_argument("--only", default="", help="run only sequences whose name contains this")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print both sides of a known DIFF too")
    parser.add_argument("--write-known", metavar="FILE",
                        help="write every DIFF of this run as a known-differences file "
                             "(reasons kept from --known where listed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    missing = [p for p in (PLACEMENT_API, PLACEMENT_MANAGE, PLACEMENT_PKG)
               if not os.path.exists(p)]
    if not shutil.which("uwsgi") or not os.path.exists("/usr/lib/uwsgi/plugins/python3_plugin.so"):
        missing.append("uwsgi / uwsgi-plugin-python3")
    if missing:
        print("SKIP: the real OpenStack Placement is not installed (missing %s); "
              "apt-get install python3-placement uwsgi-core uwsgi-plugin-python3 "
              "(scripts/install-deps.sh)" % ", ".join(missing))
        return SKIP
    if not os.access(args.server, os.X_OK):
        print("error: --server %s is not an executable" % args.server)
        return 2

    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="placement-differential-")

    def on_signal(signum, _frame):
        # Servers first: the worker threads then fail fast instead of finishing their sequences.
        stop_all_children()
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        return run(args, tmp, started)
    except KeyboardInterrupt:
        print("interrupted; stopping the servers")
        return 130
    finally:
        stop_all_children()
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp, started):
    # bwfloor-server is rebuilt while this runs elsewhere: run a private copy.
    binary = os.path.join(tmp, "bwfloor-server")
    shutil.copy2(args.server, binary)

    # One synced Placement database, copied for every real server.
    template = os.path.join(tmp, "template")
    os.makedirs(template)
    with open(os.path.join(template, "placement.conf"), "w") as f:
        f.write(ini_text({"placement_database": {
            "connection": "sqlite:///%s" % os.path.join(template, "placement.db")}}))
    sync = subprocess.run([PLACEMENT_MANAGE, "--config-file",
                           os.path.join(template, "placement.conf"), "db", "sync"],
                          capture_output=True, text=True, timeout=120)
    if sync.returncode != 0:
        print("error: placement-manage db sync failed:\n%s" % (sync.stdout + sync.stderr))
        return 2
    template_db = os.path.join(template, "placement.db")

    policy_file = os.path.join(tmp, "policy.yaml")
    with open(policy_file, "w") as f:
        f.write(POLICY_FILE)

    configs = configurations(policy_file, args.skip_policy, args.skip_cors)
    for cfg in configs.values():
        cfg["sequences"] = [q for q in cfg["sequences"] if args.only in q.name]
    configs = {name: cfg for name, cfg in configs.items() if cfg["sequences"]}
    if not configs:
        print("error: no sequence matches --only %r" % args.only)
        return 2
    unread = sections_not_read(binary, tmp, ["oslo_policy", "cors"])
    if unread:
        print("NOTE: bwfloor-server does not read [%s] yet (its --check-config reports no key of "
              "it), so the policy / CORS suites show what is missing; --skip-policy / --skip-cors "
              "leave them out" % "], [".join(unread))
    pairs = {}
    for cname, cfg in configs.items():
        real = RealPlacement(os.path.join(tmp, cname, "real"), template_db, cfg["real"])
        bw = Bwfloor(binary, os.path.join(tmp, cname, "bwfloor"), cfg["bwfloor"], "")
        pairs[cname] = (real, bw)
    servers = [s for pair in pairs.values() for s in pair]
    errors = start_servers(servers)
    if errors:
        for e in errors:
            print("error: %s" % e)
        return 2
    print("started %d server pairs in %.1f s" % (len(pairs), time.monotonic() - started))

    all_checks = []
    lock = threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4 * len(pairs)) as pool:
        def run_pair(cname):
            out = []
            for seq in configs[cname]["sequences"]:
                out.extend(compare_seq(pairs[cname], seq, pool))
            return out

        outer = concurrent.futures.ThreadPoolExecutor(max_workers=len(pairs))
        try:
            for checks in outer.map(run_pair, list(configs)):
                with lock:
                    all_checks.extend(checks)
        finally:
            outer.shutdown()
    for s in servers:
        s.stop()

    known = load_known(args.known)
    n_pass = n_known = n_new = 0
    for c in all_checks:
        mv = c.step.mv or "-"
        if not c.diffs:
            n_pass += 1
            print("PASS %s [%s] %s" % (c.cid, mv, c.request))
            continue
        is_known = c.cid in known
        n_known += is_known
        n_new += not is_known
        print("DIFF %s [%s] %s%s" % (c.cid, mv, c.request,
                                     "  (known: %s)" % known[c.cid] if is_known else ""))
        print("    differs: %s" % "; ".join(c.diffs))
        if not is_known or args.verbose:
            for label, n in (("real   ", c.real_n), ("bwfloor", c.bw_n)):
                print("    %s %s %s %s" % (label, n["status"], short(n["headers"], 400),
                                           short(n["body"], 500)))
    # Listed checks that ran and passed (checks of skipped suites are not stale).
    stale = [c.cid for c in all_checks if c.cid in known and not c.diffs]
    if args.write_known:
        with open(args.write_known, "w") as f:
            f.write(KNOWN_HEADER)
            for c in all_checks:
                if c.diffs:
                    reason = known.get(c.cid) or summarize(c)
                    f.write("%s  # %s\n" % (c.cid, reason))
        print("wrote %s" % args.write_known)
    print("\nSUMMARY: %d checks, %d PASS, %d DIFF (%d known, %d new) in %.1f s" % (
        len(all_checks), n_pass, n_known + n_new, n_known, n_new, time.monotonic() - started))
    if stale:
        print("known differences that no longer differ (remove them from %s): %s" % (
            os.path.basename(args.known), ", ".join(stale)))
    return 1 if n_new else 0


if __name__ == "__main__":
    sys.exit(main())
