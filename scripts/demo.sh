#!/usr/bin/env bash
# The main job: builds bwfloor, creates a throwaway rig (a network namespace standing in for host
# devstack0, with veth "NICs" and a Linux bridge), starts bwfloor-server (embedded SQLite) and
# bwfloor-agent in it, and prints what they report. Cleans up on exit, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" -ne 0 ]; then echo "demo.sh: run as root (network namespaces)" >&2; exit 1; fi
./scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default

ns="bwfloor-demo-$$"
work=$(mktemp -d /tmp/bwfloor-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n=== %s\n' "$*"; }
in_ns() { ip netns exec "$ns" "$@"; }

step "rig: namespace $ns (host devstack0): veth ens5, Linux bridge br-test with uplink eth-test"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add ens5 type veth peer name ens5-peer
ip -n "$ns" link add br-test type bridge
ip -n "$ns" link add eth-test type veth peer name eth-test-peer
ip -n "$ns" link set eth-test master br-test
for dev in ens5 ens5-peer br-test eth-test eth-test-peer; do ip -n "$ns" link set "$dev" up; done
ip -n "$ns" -br link

cat >"$work/server.ini" <<INI
[api]
bind = 127.0.0.1:8778
auth_strategy = noauth2
[placement_database]
connection = sqlite:///$work/placement.db
INI
cat >"$work/agent.ini" <<INI
[agent]
host = devstack0
[placement]
endpoint = http://127.0.0.1:8778/placement
[ovs]
bridge_mappings = physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
INI

step "start bwfloor-server (log: $work/server.log)"
# Directly, not through in_ns: $! must be the server itself so that cleanup can stop it.
ip netns exec "$ns" "$root/build/bin/bwfloor-server" --config "$work/server.ini" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  in_ns "$root/build/bin/bwfloorctl" status >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
in_ns "$root/build/bin/bwfloorctl" status

step "bwfloor-agent: one report (discovered devices, placement reachability)"
in_ns "$root/build/bin/bwfloor-agent" --config "$work/agent.ini" --once

step "done; cleaning up"
