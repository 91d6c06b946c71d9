#!/usr/bin/env bash
# The fidelity matrix: does a guarantee bwfloor reports as `enforced` hold? Runs one cell of
# build/tests/fidelity_test (tests/integration/fidelity/fidelity_test.cpp) per combination of
# backend x datapath x uplink rate x direction x neighbour, each with RUNS guaranteed runs and
# CONTROLS control runs, and prints a Markdown table (min / median of the guaranteed port's rate
# as a share of its minimum, the control's median, the port's state). Root; run from a fresh
# clone: it installs, builds and (for the kernel datapath) sets up ../shared/rig/vf-vm first.
#
#   bench/fidelity/run.sh [--runs N] [--controls N] [--host-only | --vm-only] [--filter REGEX]
#                         [--out FILE]
#
# Each cell takes ~(RUNS + CONTROLS) x 17 s; the whole matrix at 5 + 2 about 2.5 hours. Cells
# whose name does not match --filter (e.g. 'ovs-netdev' or '100\.egress') are left out. The raw
# output of every cell goes to bench/fidelity/logs/ (not committed); the table to --out too.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=5
controls=2
filter=.
out=
where=all
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --controls) controls=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --host-only) where=host; shift ;;
    --vm-only) where=vm; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: must run as root (network namespaces, tc, OVS)" >&2
  exit 1
fi

./scripts/install-deps.sh >/dev/null
cmake --preset default >/dev/null
cmake --build --preset default --target fidelity_test >/dev/null
rig=${BWFLOOR_VF_RIG_DIR:-$(realpath -m ../shared/rig/vf-vm)}
if [ "$where" != host ]; then
  if [ -x "$rig/setup.sh" ]; then
    "$rig/setup.sh" >/dev/null
  else
    echo "run.sh: no vf-vm rig at $rig: the kernel-datapath cells are left out" >&2
    where=host
  fi
fi

logs=bench/fidelity/logs
mkdir -p "$logs"
results=$(mktemp)
child=
# Interrupted: the cell's own cleanup (RAII in the harness) does not run when it is killed, so
# its daemons and namespaces (named bwf<pid>...) go here.
cleanup() {
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -9 "$child" 2>/dev/null || true
    pkill -9 -f "ovs-vswitchd.*bwfloor-ovsdb-|ovsdb-server.*bwfloor-ovsdb-" 2>/dev/null || true
    for ns in $(ip netns list | awk '{print $1}' | grep "^bwf$child" || true); do
      ip netns pids "$ns" | xargs -r kill -9 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
    done
  fi
  rm -f "$results"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cell DATAPATH BACKEND RATE DIRECTION NEIGHBOUR [RUNS]
cell() {
  local datapath=$1 backend=$2 rate=$3 direction=$4 neighbour=$5 n=${6:-$runs}
  local name="$backend.$datapath.$rate.$direction.$neighbour"
  [[ $name =~ $filter ]] || return 0
  local env=(BWFLOOR_FIDELITY_DATAPATH="$datapath" BWFLOOR_FIDELITY_BACKEND="$backend"
             BWFLOOR_FIDELITY_RATE_MBPS="$rate" BWFLOOR_FIDELITY_DIRECTION="$direction"
             BWFLOOR_FIDELITY_NEIGHBOUR="$neighbour" BWFLOOR_FIDELITY_RUNS="$n"
             BWFLOOR_FIDELITY_CONTROLS="$controls")
  local log="$logs/$name.log" started=$SECONDS
  if [ "$datapath" = ovs-system ]; then
    local vmenv=()
    for e in "${env[@]}"; do vmenv+=(--env "$e"); done
    tests/integration/vm/in-vf-vm.sh "$rig" --timeout 900 "${vmenv[@]}" -- \
      "$PWD/build/tests/fidelity_test" --gtest_filter=Fidelity.Cell >"$log" 2>&1 &
  else
    env "${env[@]}" build/tests/fidelity_test --gtest_filter=Fidelity.Cell >"$log" 2>&1 &
  fi
  child=$!
  wait "$child" || true
  child=
  local line
  line=$(grep -o '\[ fidelity   \] {.*}' "$log" | tail -1 | sed 's/^\[ fidelity   \] //')
  if [ -z "$line" ]; then
    line="{\"datapath\":\"$datapath\",\"backend\":\"$backend\",\"rate_mbps\":$rate,\"direction\":\"$direction\",\"neighbour\":\"$neighbour\",\"error\":\"no result, see $log\"}"
  fi
  echo "$line" >>"$results"
  echo "run.sh: $name done in $((SECONDS - started)) s" >&2
}

if [ "$where" != vm ]; then
  for rate in 100 10 1000 500 1.5; do  # the most telling first
    for neighbour in tcp8 udp; do
      cell bridge htb "$rate" egress "$neighbour"
      cell bridge htb "$rate" ingress "$neighbour"
      cell ovs-netdev htb "$rate" egress "$neighbour"
      cell ovs-netdev ovs "$rate" egress "$neighbour"
    done
    # Not enforceable there (the state says why); measured once to show what happens.
    cell ovs-netdev htb "$rate" ingress tcp8 1
  done
fi
if [ "$where" != host ]; then
  # The guest's emulated CPUs carry ~100 Mbit/s at most (DEVELOPERS.md, "VM tests").
  for rate in 100 10 1.5; do
    for neighbour in tcp8 udp; do
      cell ovs-system htb "$rate" egress "$neighbour"
      cell ovs-system htb "$rate" ingress "$neighbour"
      cell ovs-system ovs "$rate" egress "$neighbour"
    done
  done
fi

table=$(python3 bench/fidelity/table.py "$results" "$runs" "$controls")
echo "$table"
if [ -n "$out" ]; then echo "$table" >"$out"; fi
