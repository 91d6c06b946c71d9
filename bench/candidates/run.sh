#!/usr/bin/env bash
# Allocation-candidates benchmark (Issue 4): bwfloor-server vs the real OpenStack Placement.
#
#   bench/candidates/run.sh [--hosts "100 1000"] [--bwfloor-only "10000"] [--workers 1]
#                           [--threads 2] [--limit 1000] [--samples 30] [--claim-hosts 50]
#                           [--claim-clients 16] [--sync full] [--wide-timeout 60] [--out DIR]
#
# For each N of --hosts: the real Placement (Debian's 8.0 under uwsgi, SQLite,
# ../shared/bench/real_placement.sh, 127.0.0.1:18778, --workers processes: with 2 its SQLite
# answers "database is locked" (500) to concurrent writes, hence 1), then build/bin/bwfloor-server
# (temp SQLite DB, --threads HTTP threads, 127.0.0.1:18779) each get
# ../shared/bench/bench_placement.py: N hosts x 7 providers, candidates latency per variant with
# and without limit=L, concurrent claims by --claim-clients clients (only --claim-hosts hosts keep
# capacity, which bounds the runtime) and the capacity check. For each N of --bwfloor-only (the real Placement needs hours
# there), bwfloor-server alone. Then the wide-tree check (bench/candidates/wide_tree.py: 8
# children x 8 groups, limit 1000) against a fresh real Placement (requests time out after
# --wide-timeout s) and a fresh bwfloor-server.
#
# Never two servers at once, and never while another benchmark runs: it first waits for any
# uwsgi / bench_placement.py / placement_writes.py / compare_placement.sh that is not its own.
# Builds nothing (BWFLOOR_SERVER overrides the binary); installs python3-placement uwsgi-core
# uwsgi-plugin-python3 when missing. --sync sets bwfloor's [placement_database]
# sqlite_synchronous (full = every write fsynced, as the real Placement's SQLite default).
# The load average before and after each step goes to DIR/load.txt (other builds may share the
# machine). Prints the tables of bench/candidates/report.py; results stay in --out.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${BWFLOOR_SHARED:-$(cd "$repo/../shared" 2>/dev/null && pwd || true)}
server_bin=${BWFLOOR_SERVER:-$repo/build/bin/bwfloor-server}
py=/usr/bin/python3
hosts="100 1000" ours_only="10000" workers=1 threads=2 limit=1000 samples=30 claim_hosts=50
claim_clients=16
sync=full wide_timeout=60 out=""
real_port=18778 ours_port=18779

while [ $# -gt 0 ]; do
  case $1 in
    --hosts) hosts=$2; shift 2 ;;
    --bwfloor-only) ours_only=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --claim-hosts) claim_hosts=$2; shift 2 ;;
    --claim-clients) claim_clients=$2; shift 2 ;;
    --sync) sync=$2; shift 2 ;;
    --wide-timeout) wide_timeout=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case $sync in full|normal) ;; *) echo "--sync: full or normal" >&2; exit 2 ;; esac

[ -x "$server_bin" ] || { echo "no $server_bin: build first (cmake --build build)" >&2; exit 1; }
[ -n "$shared" ] && [ -x "$shared/bench/real_placement.sh" ] ||
  { echo "no ../shared/bench/real_placement.sh (set BWFLOOR_SHARED)" >&2; exit 1; }
[ -n "$out" ] || out=$(mktemp -d /var/tmp/bwfloor-candidates.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
load() {  # step: the load average, into DIR/load.txt
  echo "$(date +%H:%M:%S) $1: load average $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"
}

# The real Placement's packages, once.
missing=()
for pkg in python3-placement uwsgi-core uwsgi-plugin-python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$out/apt.log" 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$out/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$out/apt.log" 2>&1
  }
fi

# Another benchmark (or server on our ports) running? Wait for it, up to 3 hours.
others() {
  pgrep -af 'uwsgi|bench_placement\.py|placement_writes\.py|compare_placement\.sh' |
    grep -v -e "$out" -e pgrep || true
}
port_free() {
  ! "$py" -c 'import socket, sys; s = socket.socket(); s.settimeout(0.5)
sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$1"
}
wait_quiet() {
  local waited=0
  while [ -n "$(others)" ] || ! port_free $real_port || ! port_free $ours_port; do
    if [ $waited -eq 0 ]; then
      log "waiting for another benchmark to finish:"
      others | sed 's/^/    /' >&2
    fi
    sleep 15
    waited=$((waited + 15))
    [ $waited -lt 10800 ] || { echo "still busy after 3 hours; giving up" >&2; exit 1; }
  done
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

real_dir="" ours_pid=""
cleanup() {
  [ -n "$real_dir" ] && "$shared/bench/real_placement.sh" stop "$real_dir" >/dev/null 2>&1 || true
  if [ -n "$ours_pid" ] && kill -0 "$ours_pid" 2>/dev/null; then kill -TERM "$ours_pid"; fi
}
trap cleanup EXIT

start_real() {  # dir
  real_dir=$1
  "$shared/bench/real_placement.sh" start "$real_dir" $real_port "$workers"
}
stop_real() {
  "$shared/bench/real_placement.sh" stop "$real_dir"
  real_dir=""
}
start_ours() {  # dir
  local dir=$1
  mkdir -p "$dir"; rm -f "$dir"/placement.db*
  {
    printf '[DEFAULT]\nlog_level = warning\n[api]\nbind = 127.0.0.1:%s\n' $ours_port
    printf 'auth_strategy = noauth2\nthreads = %s\n' "$threads"
    printf '[placement_database]\nconnection = sqlite:///%s/placement.db\n' "$dir"
    [ "$sync" = full ] || printf 'sqlite_synchronous = %s\n' "$sync"
  } >"$dir/server.ini"
  "$server_bin" --config "$dir/server.ini" >"$dir/server.log" 2>&1 &
  ours_pid=$!
  wait_ready "http://127.0.0.1:$ours_port/"
}
stop_ours() {  # rss file (optional)
  [ -z "${1:-}" ] || rss "$ours_pid" "$1"
  kill -TERM "$ours_pid"
  local rc=0
  wait "$ours_pid" || rc=$?
  ours_pid=""
  [ $rc -eq 0 ] || log "bwfloor-server exited with $rc after SIGTERM"
}
rss() {  # pid file: VmRSS of the process into the file
  grep VmRSS "/proc/$1/status" | awk '{print $2, $3}' >"$2"
}
bench() {  # label hosts url: setup, then (after noting bwfloor's RSS) candidates, claims, check
  local label=$1 n=$2 url=$3 claim=$claim_hosts rid
  [ "$claim" -le "$n" ] || claim=$n
  rid=$("$py" -c 'import uuid; print(uuid.uuid4().hex)')
  local t0=$SECONDS
  local common=(--url "$url" --hosts "$n" --run-id "$rid" --limit "$limit" --ac-samples "$samples"
                --variants vm_only,vm_bw,vm_bw_same_subtree,vm_2ports_isolate
                --claim-hosts "$claim" --claim-concurrency "$claim_clients")
  # One uwsgi process serves one keep-alive connection at a time: several setup clients can
  # starve one of them past its timeout (its retried POST then gets a 409).
  [ "$label" != real ] || [ "$workers" -gt 1 ] || common+=(--concurrency 1)
  "$py" "$shared/bench/bench_placement.py" "${common[@]}" --phases setup \
    --out "$out/$label-$n-setup.json" >/dev/null 2>"$out/$label-$n-setup.log" ||
    log "$label N=$n: setup failed (exit $?), see $out/$label-$n-setup.log"
  [ "$label" != bwfloor ] || rss "$ours_pid" "$out/bwfloor-$n.rss-setup"
  load "$label N=$n candidates+claims start"
  "$py" "$shared/bench/bench_placement.py" "${common[@]}" --phases ac,claim,check \
    --out "$out/$label-$n.json" >/dev/null 2>"$out/$label-$n.log" ||
    log "$label N=$n: bench_placement.py failed (exit $?), see $out/$label-$n.log"
  load "$label N=$n end"
  log "$label N=$n: $((SECONDS - t0)) s"
}

log "results in $out; $server_bin: $threads threads, sqlite_synchronous=$sync;" \
  "real Placement: $workers uwsgi process(es); limit $limit"
for n in $hosts; do
  wait_quiet
  log "real Placement, N=$n"
  start_real "$out/real-placement-$n"
  bench real "$n" "http://127.0.0.1:$real_port"
  stop_real
  wait_quiet
  log "bwfloor-server, N=$n"
  start_ours "$out/bwfloor-db-$n"
  bench bwfloor "$n" "http://127.0.0.1:$ours_port/placement"
  stop_ours "$out/bwfloor-$n.rss"
done
for n in $ours_only; do
  wait_quiet
  log "bwfloor-server alone, N=$n"
  start_ours "$out/bwfloor-db-$n"
  bench bwfloor "$n" "http://127.0.0.1:$ours_port/placement"
  stop_ours "$out/bwfloor-$n.rss"
done

wait_quiet
log "wide tree: real Placement (requests time out after ${wide_timeout} s)"
start_real "$out/real-placement-wide"
load "wide tree real"
"$py" "$here/wide_tree.py" --url "http://127.0.0.1:$real_port" --samples 5 \
  --timeout "$wide_timeout" --out "$out/wide-real.json" >/dev/null || true
stop_real
wait_quiet
log "wide tree: bwfloor-server"
start_ours "$out/bwfloor-db-wide"
load "wide tree bwfloor"
"$py" "$here/wide_tree.py" --url "http://127.0.0.1:$ours_port/placement" --samples 20 \
  --out "$out/wide-bwfloor.json" >/dev/null || true
stop_ours

"$py" "$here/report.py" "$out"
log "results: $out"
