#!/usr/bin/env bash
# Placement write benchmark, bwfloor-server vs the real OpenStack Placement, in one run.
#
#   bench/compare_placement.sh [--hosts N] [--clients C] [--writes N] [--budget SECONDS]
#                              [--real-workers W] [--threads T] [--out DIR]
#
# 1. installs (apt-get, only if missing) python3-placement uwsgi-core uwsgi-plugin-python3;
# 2. starts the real Placement (Debian's 8.0 under uwsgi, SQLite, W processes, default 1 as in
#    ../shared/bench/README.md: with 2 processes SQLite answers "database is locked" -> HTTP 500)
#    with ../shared/bench/real_placement.sh on 127.0.0.1:18778, runs bench/placement_writes.py
#    against it, stops it;
# 3. starts build/bin/bwfloor-server (temp SQLite DB, T HTTP threads, default 2 = its default)
#    on 127.0.0.1:18779, runs the same benchmark, stops it with SIGTERM (exit code must be 0);
# never both servers at once. Prints both JSON results' key figures and the ratios
# (bwfloor / real). Both databases live on the same disk (under --out). Each bench phase stops
# starting new work after --budget seconds (default 100), so the run stays under ~5 minutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
shared=${BWFLOOR_SHARED:-$(cd "$repo/../shared" 2>/dev/null && pwd || true)}
server_bin=${BWFLOOR_SERVER:-$repo/build/bin/bwfloor-server}
py=/usr/bin/python3
hosts=500 clients=4 writes=2000 real_workers=1 threads=2 budget=100 out=""
real_port=18778 ours_port=18779

while [ $# -gt 0 ]; do
  case $1 in
    --hosts) hosts=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --writes) writes=$2; shift 2 ;;
    --real-workers) real_workers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

[ -x "$server_bin" ] || { echo "no $server_bin: build first (cmake --build build)" >&2; exit 1; }
[ -n "$shared" ] && [ -x "$shared/bench/real_placement.sh" ] ||
  { echo "no ../shared/bench/real_placement.sh (set BWFLOOR_SHARED)" >&2; exit 1; }
[ -n "$out" ] || out=$(mktemp -d /var/tmp/bwfloor-bench.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# 1. The real Placement's packages, once.
missing=()
for pkg in python3-placement uwsgi-core uwsgi-plugin-python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$out/apt.log" 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$out/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$out/apt.log" 2>&1
  }
fi

port_free() {  # nothing may listen on the port we are about to use
  ! "$py" -c 'import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$1"
}
wait_ready() {  # poll GET URL until it answers, with a deadline
  "$py" - "$1" <<'EOF'
import sys, time, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with opener.open(sys.argv[1], timeout=1) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.05)
sys.exit("%s did not answer within 30 s" % sys.argv[1])
EOF
}

real_dir=$out/real-placement
ours_dir=$out/bwfloor
ours_pid=""
cleanup() {
  "$shared/bench/real_placement.sh" stop "$real_dir" >/dev/null 2>&1 || true
  if [ -n "$ours_pid" ] && kill -0 "$ours_pid" 2>/dev/null; then kill -TERM "$ours_pid"; fi
}
trap cleanup EXIT

bench() {  # label url
  "$py" "$here/placement_writes.py" --url "$2" --label "$1" --hosts "$hosts" \
    --clients "$clients" --writes "$writes" --phase-budget "$budget" --out "$out/$1.json" >/dev/null
}

# 2. The real Placement.
port_free $real_port || { echo "port $real_port is busy" >&2; exit 1; }
echo "real Placement: $real_workers uwsgi process(es), 127.0.0.1:$real_port, db $real_dir" >&2
"$shared/bench/real_placement.sh" start "$real_dir" $real_port "$real_workers"
t0=$(date +%s)
bench real "http://127.0.0.1:$real_port" || echo "real Placement bench failed, see $out/real.json" >&2
echo "real Placement bench: $(( $(date +%s) - t0 )) s" >&2
"$shared/bench/real_placement.sh" stop "$real_dir"
real_journal=$("$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").fetchone()[0])' "$real_dir/placement.db" 2>/dev/null || echo "?")

# 3. bwfloor-server.
port_free $ours_port || { echo "port $ours_port is busy" >&2; exit 1; }
mkdir -p "$ours_dir"; rm -f "$ours_dir"/placement.db*
cat >"$ours_dir/server.ini" <<EOF
[api]
bind = 127.0.0.1:$ours_port
auth_strategy = noauth2
threads = $threads
[placement_database]
connection = sqlite:///$ours_dir/placement.db
EOF
echo "bwfloor-server: $threads HTTP threads, 127.0.0.1:$ours_port, db $ours_dir" >&2
"$server_bin" --config "$ours_dir/server.ini" >"$ours_dir/server.log" 2>&1 &
ours_pid=$!
wait_ready "http://127.0.0.1:$ours_port/"
t0=$(date +%s)
bench bwfloor "http://127.0.0.1:$ours_port/placement" || echo "bwfloor bench failed, see $out/bwfloor.json" >&2
echo "bwfloor bench: $(( $(date +%s) - t0 )) s" >&2
kill -TERM "$ours_pid"
rc=0; wait "$ours_pid" || rc=$?
ours_pid=""
[ $rc -eq 0 ] || echo "bwfloor-server exited with $rc after SIGTERM" >&2
ours_sync=$(grep -o 'synchronous=[A-Z]*' "$ours_dir/server.log" | head -1 || true)

# 4. The table.
"$py" - "$out/real.json" "$out/bwfloor.json" "$ours_sync" "$real_journal" "$real_workers" \
  "$threads" <<'EOF'
import json, sys
real, ours = (json.load(open(p)) for p in sys.argv[1:3])
rows = [
    ("provider reports: hosts/s", ("providers", "hosts_per_s"), "higher"),
    ("provider reports: requests/s", ("providers", "requests_per_s"), "higher"),
    ("provider request median ms", ("providers", "request_latency", "median_ms"), "lower"),
    ("provider request p99 ms", ("providers", "request_latency", "p99_ms"), "lower"),
    ("POST /resource_providers median ms",
     ("providers", "by_op", "POST /resource_providers", "median_ms"), "lower"),
    ("host report (19 requests) median ms",
     ("providers", "by_op", "host report (7 providers)", "median_ms"), "lower"),
    ("host report p99 ms", ("providers", "by_op", "host report (7 providers)", "p99_ms"), "lower"),
    ("allocation writes/s", ("allocations", "writes_per_s"), "higher"),
    ("allocation write median ms", ("allocations", "latency", "median_ms"), "lower"),
    ("allocation write p99 ms", ("allocations", "latency", "p99_ms"), "lower"),
]
def get(d, path):
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d
p = real["params"]
print("\nPlacement writes: %d hosts (%d providers), %d clients, %d allocation writes, "
      "microversion %s" % (p["hosts"], 7 * p["hosts"], p["clients"], p["writes"],
                           ours.get("microversion")))
print("real Placement: %s uwsgi process(es) x 1 thread; bwfloor-server: %s HTTP threads; "
      "load average at the end: %s" % (sys.argv[5], sys.argv[6], open("/proc/loadavg").read().split()[0]))
print("%-38s %14s %14s %10s" % ("", "real Placement", "bwfloor", "bwf/real"))
for name, path, better in rows:
    a, b = get(real, path), get(ours, path)
    ratio = "%.2f" % (b / a) if a and b is not None else "-"
    print("%-38s %14s %14s %10s  (%s is better)" % (name, a, b, ratio, better))
for label, d in (("real", real), ("bwfloor", ours)):
    for phase in ("providers", "allocations"):
        if get(d, (phase, "error")):
            print("%s %s phase error: %s" % (label, phase, d[phase]["error"][:300]))
    print("%s: hosts reported %s (failed %s, budget hit %s); allocation writes %s (budget hit "
          "%s), statuses %s; usage check mismatches %s" % (
        label, get(d, ("providers", "hosts")), get(d, ("providers", "hosts_failed")),
        get(d, ("providers", "budget_hit")), get(d, ("allocations", "writes")),
        get(d, ("allocations", "budget_hit")), get(d, ("allocations", "statuses")),
        get(d, ("check", "mismatches"))))
    print("%s: requests per client %s; writes per client %s" % (
        label, get(d, ("providers", "requests_per_client")),
        get(d, ("allocations", "writes_per_client"))))
    for phase in ("providers", "allocations"):
        if get(d, (phase, "first_failure")):
            print("%s %s first failure: %s" % (label, phase, d[phase]["first_failure"][:300]))
print("bwfloor SQLite: WAL, %s (each write fsyncs); real Placement SQLite: journal_mode=%s, "
      "synchronous=FULL (SQLite's default, oslo.db sqlite_synchronous=True)" % (
          sys.argv[3] or "synchronous=?", sys.argv[4]))
EOF
echo "results: $out" >&2
