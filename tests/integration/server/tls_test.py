#!/usr/bin/python3
"""HTTPS end to end (issue 16), on the real binaries, with a throwaway CA made by openssl here.

In a network namespace of its own (a veth as the SR-IOV agent's device, loopback for HTTPS):

  server     bwfloor-server with [ssl] cert_file/key_file; --check-config accepts them and names
             a key that does not belong to the certificate; a second server on the same SQLite
             file is refused (the database lock)
  agent      bwfloor-agent --once over https:// with [placement] cafile: creates its providers
             and heartbeats; with a CA that did not sign the server's certificate it reports
             nothing and says "certificate verify failed"
  clients    bwfloorctl --os-cacert and the real `openstack` client (--os-cacert) read what the
             agent made; bwfloorctl without the CA is refused with the reason; Location headers
             are https://; plain HTTP to the HTTPS port gets no answer

Prints PASS/FAIL per check; exit 1 if any failed. The namespace and the files go at exit.

  /usr/bin/python3 tests/integration/server/tls_test.py --bin build/bin
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testlib import check, failures  # noqa: E402

NETNS = "bwfloor-tls-%d" % os.getpid()
PORT = 18443


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)


def in_ns(argv):
    return ["ip", "netns", "exec", NETNS] + argv


def make_pki(d):
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        run(["openssl", "req", "-x509"] + key + ["-keyout", ca + ".key", "-out", ca + ".pem",
             "-days", "2", "-subj", "/CN=bwfloor test " + ca], cwd=d, check=True)
    for name, alt in (("server", "IP:127.0.0.1,DNS:localhost"), ("stranger", "DNS:x.example")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % alt)
        run(["openssl", "req"] + key + ["-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + name], cwd=d, check=True)
        run(["openssl", "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext"],
            cwd=d, check=True)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def server_config(d, name, key="server.key"):
    return write(os.path.join(d, name), """[api]
bind = 127.0.0.1:%d
[placement_database]
connection = sqlite:///%s/placement.db
[ssl]
cert_file = %s/server.pem
key_file = %s/%s
""" % (PORT, d, d, d, key))


def agent_config(d, name, cafile):
    return write(os.path.join(d, name), """[agent]
host = tlshost
status_socket = %s/agent.sock
[placement]
endpoint = https://127.0.0.1:%d/placement
cafile = %s
[sriov_nic]
physical_device_mappings = physnet0:ens9
resource_provider_bandwidths = ens9:10000:10000
""" % (d, PORT, cafile))


def wait_for_https(ca):
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = run(in_ns(["python3", "-c", """
import http.client, ssl, sys
c = http.client.HTTPSConnection('127.0.0.1', %d, timeout=2,
    context=ssl.create_default_context(cafile=%r))
c.request('GET', '/placement/')
sys.exit(0 if c.getresponse().status == 200 else 1)""" % (PORT, ca)]))
        if probe.returncode == 0:
            return True
        time.sleep(0.1)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="directory of the built binaries")
    args = parser.parse_args()
    binary = {n: os.path.join(os.path.abspath(args.bin), n)
              for n in ("bwfloor-server", "bwfloor-agent", "bwfloorctl")}
    d = tempfile.mkdtemp(prefix="bwfloor-tls-")
    os.chmod(d, 0o755)
    server = None
    try:
        make_pki(d)
        run(["ip", "netns", "add", NETNS], check=True)
        run(["ip", "-n", NETNS, "link", "set", "lo", "up"], check=True)
        run(["ip", "-n", NETNS, "link", "add", "ens9", "type", "veth", "peer", "name", "ens9p"],
            check=True)
        run(["ip", "-n", NETNS, "link", "set", "ens9", "up"], check=True)
        ca = os.path.join(d, "ca.pem")

        # Server configuration.
        good = server_config(d, "server.ini")
        r = run([binary["bwfloor-server"], "--check-config", good])
        check(r.returncode == 0, "--check-config accepts [ssl]", r.stdout + r.stderr)
        wrong = server_config(d, "wrong-key.ini", key="stranger.key")
        r = run([binary["bwfloor-server"], "--check-config", wrong])
        check(r.returncode != 0 and "stranger.key" in r.stderr,
              "--check-config names a key that is not the certificate's", r.stderr)

        log = open(os.path.join(d, "server.log"), "w")
        server = subprocess.Popen(in_ns([binary["bwfloor-server"], "--config", good]),
                                  stdout=log, stderr=subprocess.STDOUT)
        if not check(wait_for_https(ca), "the server answers HTTPS"):
            return 1
        second = write(os.path.join(d, "second.ini"), open(good).read().replace(
            str(PORT), str(PORT + 1)))
        r = run(in_ns([binary["bwfloor-server"], "--config", second]))
        check(r.returncode != 0 and "in use by another bwfloor-server (pid" in r.stderr,
              "a second server on the same SQLite file is refused", r.stderr)

        # The agent over HTTPS: refused with a CA that did not sign the server's certificate.
        r = run(in_ns([binary["bwfloor-agent"], "--config",
                       agent_config(d, "agent-other-ca.ini", os.path.join(d, "other-ca.pem")),
                       "--once"]))
        check(r.returncode != 0 and "certificate verify failed" in r.stdout + r.stderr,
              "the agent refuses a server its CA file did not sign", (r.stdout + r.stderr)[-600:])
        r = run(in_ns([binary["bwfloor-agent"], "--config", agent_config(d, "agent.ini", ca),
                       "--once"]))
        check(r.returncode == 0, "the agent syncs placement over HTTPS", (r.stdout + r.stderr)[-600:])

        # Clients.
        ctl = [binary["bwfloorctl"], "--server", "https://127.0.0.1:%d" % PORT, "--json"]
        r = run(in_ns(ctl + ["--os-cacert", ca, "agent", "list"]))
        agents = json.loads(r.stdout)["agents"] if r.returncode == 0 else []
        check([a["host"] for a in agents] == ["tlshost"] and agents[0]["alive"],
              "bwfloorctl --os-cacert lists the agent's heartbeat", r.stdout + r.stderr)
        r = run(in_ns(ctl + ["agent", "list"]))
        check(r.returncode != 0 and "certificate verify failed" in r.stderr,
              "bwfloorctl without the CA is refused with the reason", r.stderr)
        r = run(in_ns(["openstack", "--os-cacert", ca, "--os-auth-type", "admin_token",
                       "--os-token", "admin", "--os-endpoint",
                       "https://127.0.0.1:%d/placement" % PORT, "resource", "provider", "list",
                       "-f", "json"]))
        names = sorted(p["name"] for p in json.loads(r.stdout)) if r.returncode == 0 else []
        check(names == ["tlshost", "tlshost:NIC Switch agent", "tlshost:NIC Switch agent:ens9"],
              "the openstack client (--os-cacert) reads the agent's providers", r.stdout + r.stderr)
        r = run(in_ns(["curl", "-si", "--cacert", ca, "-X", "POST", "-H", "X-Auth-Token: admin",
                       "-H", "OpenStack-API-Version: placement 1.20", "-H",
                       "Content-Type: application/json", "-d", '{"name": "tls-made"}',
                       "https://127.0.0.1:%d/placement/resource_providers" % PORT]))
        location = [l for l in r.stdout.splitlines() if l.lower().startswith("location:")]
        check(location and location[0].split(" ", 1)[1].startswith(
            "https://127.0.0.1:%d/placement/resource_providers/" % PORT),
            "Location headers are https://", r.stdout[:400])
        r = run(in_ns(["curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                       "http://127.0.0.1:%d/placement/" % PORT]))
        check(r.stdout.strip() == "000", "plain HTTP to the HTTPS port gets no answer",
              r.stdout + r.stderr)
        check(server.poll() is None, "the server is still up")
    finally:
        if server is not None:
            server.kill()
            server.wait()
        run(["ip", "netns", "del", NETNS])
        if failures():
            print("server log:\n" + open(os.path.join(d, "server.log")).read()[-3000:]
                  if os.path.exists(os.path.join(d, "server.log")) else "")
        shutil.rmtree(d, ignore_errors=True)
    print("%d check(s) failed" % len(failures()) if failures() else "all checks passed")
    return 1 if failures() else 0


if __name__ == "__main__":
    sys.exit(main())
