#!/usr/bin/env bash
# The main job: the reference scenario (../shared/reference/scenario.md) on a throwaway rig.
# A network namespace stands in for host devstack0: Open vSwitch (userspace datapath) with br-int,
# br-test and br-ex joined by patch ports, a veth uplink on br-test, and a veth ens5 standing in
# for the SR-IOV NIC. bwfloor-server (embedded SQLite) and bwfloor-agent run in it; every step is
# driven with bwfloorctl (and the real openstack client for the operator's deletion). Cleans up on
# exit, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [ "$(id -u)" -ne 0 ]; then echo "demo.sh: run as root (network namespaces)" >&2; exit 1; fi
# BWFLOOR_DEMO_PREBUILT=1 (the scenario's CTest): the binaries in build/bin are already built.
if [ "${BWFLOOR_DEMO_PREBUILT:-0}" != 1 ]; then
  ./scripts/install-deps.sh
  cmake --preset default >/dev/null
  cmake --build --preset default
fi

ns="bwfloor-demo-$$"
work=$(mktemp -d /tmp/bwfloor-demo.XXXXXX)
pids=()
extra_ns=()
cleanup() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ -d "$work" ]; then
    rm -rf /tmp/bwfloor-demo-failed && cp -r "$work" /tmp/bwfloor-demo-failed
    echo "demo.sh: failed (exit $rc); logs kept in /tmp/bwfloor-demo-failed (agent.log, server.log)" >&2
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  for ctl in "$work"/ovs-vswitchd.ctl "$work"/ovsdb-server.ctl; do
    [ -S "$ctl" ] && ip netns exec "$ns" ovs-appctl -t "$ctl" exit >/dev/null 2>&1
  done
  for n in "${extra_ns[@]}"; do
    ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$n" 2>/dev/null
  done
  ip netns del "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }
in_ns() { ip netns exec "$ns" "$@"; }
bin=${BWFLOOR_BIN_DIR:-$root/build/bin}
# How the agent enforces on br-test: htb (tc HTB on the uplink) or ovs (Open vSwitch QoS/Queue).
qos_backend=${BWFLOOR_DEMO_QOS_BACKEND:-htb}
ctl() { in_ns "$bin/bwfloorctl" "$@"; }
# check WHAT PYTHON-EXPRESSION JSON-COMMAND...: the expression, over the command's JSON output as
# `j`, must be true; the demo stops otherwise (it is also the scenario's integration test).
check() {
  local what=$1 expr=$2; shift 2
  if ! "$@" | /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)"; then
    echo "demo.sh: CHECK FAILED: $what" >&2; exit 1
  fi
  echo "    ok: $what"
}
vsctl() { in_ns ovs-vsctl --db="unix:$work/db.sock" "$@"; }
# Waits for a condition (a command that succeeds), never a fixed sleep.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "demo.sh: timed out waiting for $what" >&2; exit 1; fi
    sleep 0.2
  done
}

# OVS's run/log directories inside the work directory (bridge sockets, no clash with a host OVS).
export OVS_RUNDIR="$work" OVS_LOGDIR="$work" OVS_DBDIR="$work"

step "rig: namespace $ns as host devstack0 (OVS userspace datapath, veth uplink, veth ens5)"
ip netns add "$ns"
ip -n "$ns" link set lo up
in_ns ovsdb-tool create "$work/conf.db" /usr/share/openvswitch/vswitch.ovsschema
in_ns ovsdb-server "$work/conf.db" --remote="punix:$work/db.sock" --pidfile="$work/ovsdb-server.pid" \
  --unixctl="$work/ovsdb-server.ctl" --log-file="$work/ovsdb-server.log" --detach
vsctl --no-wait init
in_ns ovs-vswitchd "unix:$work/db.sock" --pidfile="$work/ovs-vswitchd.pid" \
  --unixctl="$work/ovs-vswitchd.ctl" --log-file="$work/ovs-vswitchd.log" --detach
for br in br-int br-test br-ex; do vsctl add-br "$br" -- set bridge "$br" datapath_type=netdev; done
vsctl add-port br-int int-br-test -- set interface int-br-test type=patch options:peer=phy-br-test \
  -- add-port br-test phy-br-test -- set interface phy-br-test type=patch options:peer=int-br-test
vsctl add-port br-int int-br-ex -- set interface int-br-ex type=patch options:peer=phy-br-ex \
  -- add-port br-ex phy-br-ex -- set interface phy-br-ex type=patch options:peer=int-br-ex
ip -n "$ns" link add eth-test type veth peer name eth-test-peer
ip -n "$ns" link add ens5 type veth peer name ens5-peer
for dev in eth-test eth-test-peer ens5 ens5-peer; do ip -n "$ns" link set "$dev" up; done
in_ns ethtool -K eth-test tx off >/dev/null
# The uplink keeps the veth's default transmit queue (1000 packets): the agent gives every HTB
# class on a userspace-datapath uplink a short leaf queue sized to ovs-vswitchd's send buffer
# (dataplane/tc/htb_layout.h), so no queue length has to be tuned by hand.
vsctl add-port br-test eth-test
vsctl show | sed 's/^/    /'

# BWFLOOR_DEMO_PG_URL (the scenario_demo_replicas CTest): bwfloor-server runs as two replicas on
# that PostgreSQL database (ports 8778 and 8779). The agent's endpoint list names the second
# first, bwfloorctl talks to the first: every binding crosses from one replica to the other.
db_url="sqlite:///$work/placement.db"
endpoints=http://127.0.0.1:8778/placement
if [ -n "${BWFLOOR_DEMO_PG_URL:-}" ]; then
  db_url=$BWFLOOR_DEMO_PG_URL
  endpoints=http://127.0.0.1:8779/placement,http://127.0.0.1:8778/placement
fi
cat >"$work/server.ini" <<INI
[api]
bind = 127.0.0.1:8778
auth_strategy = noauth2
binding_timeout = 20
[DEFAULT]
agent_down_time = 20
[placement_database]
connection = $db_url
INI
cat >"$work/agent.ini" <<INI
[DEFAULT]
host = devstack0
[agent]
report_interval = 2
status_socket = $work/agent.sock
[placement]
endpoint = $endpoints
[ovs]
qos_backend = $qos_backend
ovsdb_connection = unix:$work/db.sock
bridge_mappings = public:br-ex,physnet0:br-test
resource_provider_bandwidths = br-test:1500:1500,br-ex::1
[sriov_nic]
physical_device_mappings = physnet0:ens5
resource_provider_bandwidths = ens5:100000:100000
INI
echo "agent.ini:"; sed 's/^/    /' "$work/agent.ini"

step "start bwfloor-server (${db_url%%\?*}) and bwfloor-agent"
# Directly, not through in_ns: $! must be the server itself so that cleanup can stop it.
ip netns exec "$ns" "$bin/bwfloor-server" --config "$work/server.ini" >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "bwfloor-server" 10 ctl status
if [ -n "${BWFLOOR_DEMO_PG_URL:-}" ]; then
  sed 's/^bind = 127.0.0.1:8778/bind = 127.0.0.1:8779/' "$work/server.ini" >"$work/server2.ini"
  ip netns exec "$ns" "$bin/bwfloor-server" --config "$work/server2.ini" >"$work/server2.log" 2>&1 &
  pids+=($!)
  wait_for "the second bwfloor-server replica" 10 ctl --server http://127.0.0.1:8779 status
fi
ip netns exec "$ns" "$bin/bwfloor-agent" --config "$work/agent.ini" >"$work/agent.log" 2>&1 &
agent_pid=$!
pids+=($!)
# A real Prometheus scrapes both every second: the contention run below asks it, through PromQL,
# for vm0's egress rate and compares it with what iperf3 measured.
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: bwfloor-agent
    static_configs: [{targets: ['127.0.0.1:9325']}]
  - job_name: bwfloor-server
    static_configs: [{targets: ['127.0.0.1:8778']}]
YML
ip netns exec "$ns" /usr/bin/prometheus --config.file="$work/prometheus.yml" \
  --storage.tsdb.path="$work/tsdb" --web.listen-address=127.0.0.1:9090 \
  >"$work/prometheus.log" 2>&1 &
pids+=($!)
# promql QUERY [TIME]: the first result's value, from Prometheus's HTTP API inside the rig.
promql() {
  in_ns /usr/bin/python3 - "$@" <<'PY'
import json, sys, urllib.parse, urllib.request
params = {"query": sys.argv[1]}
if len(sys.argv) > 2:
    params["time"] = sys.argv[2]
url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode(params)
result = json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]
if not result:
    sys.exit(1)
print(result[0]["value"][1])
PY
}
synced() { ctl --json agent list | /usr/bin/python3 -c '
import json, sys
agents = json.load(sys.stdin)["agents"]
sys.exit(0 if len(agents) == 2 and all(a["alive"] and a["resources_synced"] for a in agents) else 1)'; }
wait_for "both agents alive and synced" 30 synced

step "agents and the configuration they report"
ctl agent list
ctl --json agent list | /usr/bin/python3 -c '
import json, sys
for a in json.load(sys.stdin)["agents"]:
    print(a["agent_type"] + ":", json.dumps(a["configurations"], sort_keys=True))'

step "the provider tree in placement (traits, inventories as used/capacity)"
ctl provider tree

step "self-healing: an operator deletes the Open vSwitch agent's providers (real openstack client)"
os() { in_ns /usr/bin/openstack --os-auth-type admin_token --os-token admin \
  --os-endpoint http://127.0.0.1:8778/placement --os-placement-api-version 1.39 "$@"; }
# Children first, in one client process (each start of the client costs seconds). Should the
# agent's resync fall between two deletions it re-creates a child: then start again.
delete_ovs_providers() {
  local cmds=""
  for dev in br-test br-ex ""; do
    name="devstack0:Open vSwitch agent${dev:+:$dev}"
    uuid=$(ctl --json provider show "$name" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uuid"])')
    echo "    openstack resource provider delete $uuid   # $name"
    cmds+="resource provider delete $uuid"$'\n'
  done
  os <<<"$cmds" >"$work/os-delete.log" 2>&1
  ! ctl --json provider show "devstack0:Open vSwitch agent" >/dev/null 2>&1
}
for attempt in 1 2 3; do
  if delete_ovs_providers; then break; fi
  echo "    (the agent healed in the middle; deleting again)"
done
deleted_at=$(date +%s%N)
echo "    deleted; bwfloor-server tells the agent through its bindings long-poll, and the agent"
echo "    re-creates them after 1 s (resync_interval is the default 60 s: not waiting for it)"
back() { ctl --json provider show "devstack0:Open vSwitch agent:br-test" >/dev/null; }
wait_for "the agent to re-create its providers" 30 back
healed_ms=$(( ($(date +%s%N) - deleted_at) / 1000000 ))
echo "    back after $healed_ms ms"
if [ "$healed_ms" -ge 2000 ]; then
  echo "demo.sh: CHECK FAILED: the providers took $healed_ms ms to come back (at most 2000)" >&2; exit 1
fi
grep -E "providers of this host deleted" "$work/agent.log" | tail -1 | sed 's/^/    /'
ctl provider tree

step "networks, QoS policy and ports"
ctl network create net0 --physnet physnet0 --segment 100
ctl qos policy create qp0 >/dev/null
ctl qos rule create qp0 --type minimum-bandwidth --min-kbps 1000 --egress >/dev/null
ctl qos rule create qp0 --type minimum-bandwidth --min-kbps 1000 --ingress >/dev/null
ctl qos policy show qp0
for p in "port-normal normal" "port-normal-qos normal qp0" "port-direct direct" \
         "port-direct-qos direct qp0" "port-normal-qos-2 normal qp0"; do
  set -- $p
  ctl port create "$1" --network net0 --vnic-type "$2" ${3:+--qos-policy "$3"} >/dev/null
done
ctl port list
ctl port show port-normal-qos

step "boot vm0 with port-normal-qos: scheduled, claimed, bound, enforced by the agent"
ctl server create vm0 --port port-normal-qos
ctl port show port-normal-qos
br_test=$(ctl --json provider show "devstack0:Open vSwitch agent:br-test" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["uuid"])')
check "port-normal-qos is bound on devstack0 with allocation = br-test's uuid" \
  "j['binding_host'] == 'devstack0' and j['binding_profile']['allocation'] == '$br_test'" \
  ctl --json port show port-normal-qos
check "the agent reports it enforced (egress) / placement-only (ingress, userspace datapath)" \
  "j['binding_status']['state'] in ('enforced', 'placement-only') and j['binding_status'].get('backend') == '$qos_backend'" \
  ctl --json port show port-normal-qos
echo "usage of br-test:"
ctl provider show "devstack0:Open vSwitch agent:br-test"
echo "what the agent programmed: HTB classes on br-test's uplink eth-test (egress)"
in_ns tc class show dev eth-test | sed 's/^/    /'
ifb=$(in_ns ip -o link show type ifb | awk -F': ' '{print $2}' | head -1)
if [ -n "$ifb" ]; then
  echo "and on $ifb (ingress, fed from eth-test's ingress qdisc)"
  in_ns tc class show dev "$ifb" | sed 's/^/    /'
fi
# The guaranteed class: rate 1Mbit under the 1500Kbit root, on the uplink.
classes=$(in_ns tc class show dev eth-test)
grep -q "rate 1Mbit ceil 1500Kbit" <<<"$classes" ||
  { echo "demo.sh: CHECK FAILED: no 1 Mbit/s class on eth-test" >&2; exit 1; }
echo "    ok: eth-test has vm0's class (rate 1Mbit, ceil 1500Kbit)"

echo "the agent's log of it:"
grep -E "binding: (port=port-normal-qos|revision=.* applied)" "$work/agent.log" | tail -2 | sed 's/^/    /'
echo "the agent's view (bwfloorctl queues, from its local status socket):"
ctl queues --socket "$work/agent.sock"
check "bwfloorctl queues shows vm0's port on br-test ($qos_backend)" \
  "[(b['port_name'], b['device'], b['backend']) for b in j['bindings']] == [('port-normal-qos', 'br-test', '$qos_backend')]" \
  ctl --json queues --socket "$work/agent.sock"

step "boot vm1 with port-normal-qos-2: br-test has 1500 - 1000 = 500 left, nothing else fits"
if ctl server create vm1 --port port-normal-qos-2; then
  echo "demo.sh: vm1 must not fit" >&2; exit 1
fi
echo "after the refusal: no vm1, no allocation for it, br-test usage unchanged"
ctl server list
check "no server vm1" "[s['name'] for s in j['servers']] == ['vm0']" ctl --json server list
usage_is() {  # egress ingress consumers
  check "br-test usage $1/$2 kbit/s, $3 consumer(s)" \
    "j['usages']['NET_BW_EGR_KILOBIT_PER_SEC'] == $1 and j['usages']['NET_BW_IGR_KILOBIT_PER_SEC'] == $2 and len(j['allocations']) == $3" \
    ctl --json provider show "devstack0:Open vSwitch agent:br-test"
}
usage_is 1000 1000 1

step "the guarantee on the wire: vm0 (1 TCP stream) against a noisy neighbour (8 streams), 5 s"
# "VMs" are namespaces whose veth ends sit on br-int; the far end of br-test's uplink is the
# "network". Traffic: vm --> br-int --patch--> br-test --> eth-test (HTB) --> network.
mac=$(ctl --json port show port-normal-qos | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["mac_address"])')
ip netns add "$ns-net"; ip netns add "$ns-vm0"; ip netns add "$ns-noisy"
extra_ns=("$ns-net" "$ns-vm0" "$ns-noisy")
ip -n "$ns" link set eth-test-peer netns "$ns-net"
ip -n "$ns-net" addr add 10.0.0.100/24 dev eth-test-peer
ip -n "$ns-net" link set eth-test-peer up
# OVS's userspace datapath forwards frames as read from the socket: senders must fill in their
# own checksums (a veth would leave TCP's to an offload that never happens).
ip netns exec "$ns-net" ethtool -K eth-test-peer tx off >/dev/null
ip -n "$ns-net" link set lo up
plug() {  # name mac ip
  ip -n "$ns" link add "tap-$1" type veth peer name eth0 netns "$ns-$1"
  ip -n "$ns-$1" link set eth0 address "$2"
  ip -n "$ns-$1" addr add "$3/24" dev eth0
  ip -n "$ns-$1" link set eth0 up
  ip netns exec "$ns-$1" ethtool -K eth0 tx off >/dev/null
  ip -n "$ns-$1" link set lo up
  ip -n "$ns" link set "tap-$1" up
  in_ns ethtool -K "tap-$1" tx off >/dev/null
  vsctl add-port br-int "tap-$1"
}
plug vm0 "$mac" 10.0.0.10
plug noisy fa:16:3e:99:99:99 10.0.0.20
ip netns exec "$ns-net" iperf3 -s -p 5201 -D --logfile "$work/iperf-a.log"
ip netns exec "$ns-net" iperf3 -s -p 5202 -D --logfile "$work/iperf-b.log"
reachable() { ip netns exec "$ns-$1" ping -c1 -W1 10.0.0.100; }
wait_for "vm0 to reach the network through OVS" 20 reachable vm0
wait_for "the neighbour to reach the network" 20 reachable noisy
wait_for "iperf3 servers" 10 ip netns exec "$ns-net" sh -c 'ss -ltn | grep -q ":5202 "'
# vm0's achieved egress kbit/s (vm -> network) while the neighbour, already sending with 8
# streams, competes for the uplink.
noisy_streams() {
  [ "$(ip netns exec "$ns-noisy" ss -Htn state established '( dport = :5202 )' | wc -l)" -ge 9 ]
}
contention() {
  ip netns exec "$ns-noisy" iperf3 -c 10.0.0.100 -p 5202 -P 8 -t 9 -J >"$work/b.json" &
  local b=$!
  wait_for "the neighbour's 8 streams" 10 noisy_streams
  date +%s.%N >"$work/a.start"
  ip netns exec "$ns-vm0" iperf3 -c 10.0.0.100 -p 5201 -t 5 -J >"$work/a.json"
  date +%s.%N >"$work/a.end"
  wait "$b"
  /usr/bin/python3 - "$work/a.json" "$work/b.json" <<'PY'
import json, sys
a, b = (json.load(open(f))["end"]["sum_received"]["bits_per_second"] / 1000 for f in sys.argv[1:])
print(f"{a:.0f} {b:.0f}")
PY
}
# Prometheus's first scrapes come a few seconds after it starts: the run must be in its data.
agent_scraped() { [ "$(promql 'up{job="bwfloor-agent"}')" = 1 ]; }
wait_for "Prometheus to scrape the agent" 30 agent_scraped
read -r guaranteed noisy_g < <(contention)
printf '    vm0 with its 1000 kbit/s minimum: %s kbit/s; the neighbour: %s kbit/s (uplink 1500)\n' \
  "$guaranteed" "$noisy_g"
ctl queues --socket "$work/agent.sock"
check "the guarantee held: 0 seconds missed for vm0's egress (guarantee-held signal)" \
  "j['bindings'][0]['egress']['guarantee_missed_seconds'] == 0 and j['bindings'][0]['egress']['guarantee_checked_seconds'] >= 5" \
  ctl --json queues --socket "$work/agent.sock"
echo "    per direction: $(ctl --json port show port-normal-qos | /usr/bin/python3 -c '
import json, sys; s = json.load(sys.stdin)["binding_status"]
print("; ".join(d + " " + s[d]["state"] + (" (" + s[d]["detail"] + ")" if s[d]["detail"] else "") for d in ("egress", "ingress") if d in s))')"
# Prometheus's view of the same run: what vm0's class sent from just before its iperf3 started
# to after it ended (the counter's samples, no extrapolation), over the seconds iperf3's receiver
# measured, in kbit/s, next to iperf3's figure. The class counts Ethernet frames (about 4.6 %
# more than the TCP payload iperf3 counts) and retransmissions.
series='bwfloor_agent_port_sent_bytes_total{port_name="port-normal-qos",direction="egress"}'
read -r window at secs < <(/usr/bin/python3 - "$work/a.start" "$work/a.end" "$work/a.json" <<'PY'
import json, math, sys
start, end = (float(open(f).read()) for f in sys.argv[1:3])
secs = json.load(open(sys.argv[3]))["end"]["sum_received"]["seconds"]
at = end + 3  # the scrapes after the run
print(math.ceil(at - start + 1), at, secs)
PY
)
query="(max_over_time(${series}[${window}s]) - min_over_time(${series}[${window}s])) * 8 / 1000 / $secs"
scraped() { [ "$(date +%s)" -gt "${at%.*}" ] && promql "$query" "$at"; }
wait_for "Prometheus to have scraped the run" 20 scraped
prom=$(scraped)
echo "    PromQL: $query"
printf '      = %.0f kbit/s; iperf3 measured %s kbit/s\n' "$prom" "$guaranteed"
/usr/bin/python3 -c "import sys; p, i = float('$prom'), float('$guaranteed'); sys.exit(0 if abs(p - i) <= 0.1 * i else 1)" ||
  { echo "demo.sh: CHECK FAILED: Prometheus's rate is not within 10% of iperf3's" >&2; exit 1; }
echo "    ok: Prometheus's rate is within 10% of iperf3's"

step "drift: an operator removes what enforces vm0 by hand; the agent repairs it at once"
# The agent follows tc changes (netlink) and repairs without waiting for its resync.
vm0_class() { in_ns tc class show dev eth-test | grep -q "rate 1Mbit ceil 1500Kbit"; }
drift_at=$(date +%s%N)
if [ "$qos_backend" = htb ]; then
  echo "    tc qdisc del dev eth-test root"
  in_ns tc qdisc del dev eth-test root
else
  echo "    ovs-vsctl clear port eth-test qos   (ovs-vswitchd then removes the queues' tc classes)"
  vsctl clear port eth-test qos
fi
wait_for "the agent to repair vm0's class" 10 vm0_class
repair_ms=$(( ($(date +%s%N) - drift_at) / 1000000 ))
echo "    vm0's class is back after $repair_ms ms; the agent's log:"
grep -E "drift on port=port-normal-qos" "$work/agent.log" | tail -1 | sed 's/^/    /' ||
  { echo "demo.sh: CHECK FAILED: the repair was not logged as drift" >&2; exit 1; }
if [ "$repair_ms" -ge 1000 ]; then
  echo "demo.sh: CHECK FAILED: the repair took $repair_ms ms (at most 1000)" >&2; exit 1
fi

step "over-commitment: br-test's total lowered to 500 kbit/s (SIGHUP) below the 1000 allocated"
sed -i 's/br-test:1500:1500/br-test:500:500/' "$work/agent.ini"
kill -HUP "$agent_pid"
over() { ctl provider tree | grep -q OVER-COMMITTED; }
wait_for "provider tree to show br-test over-committed" 15 over
ctl provider tree | grep -E "br-test|OVER" | sed 's/^/    /'
port_over() { ctl --json port show port-normal-qos | /usr/bin/python3 -c '
import json, sys; s = json.load(sys.stdin)["binding_status"]
sys.exit(0 if s["state"] == "over-committed" and s["egress"]["state"] == "over-committed" else 1)'; }
wait_for "vm0's port to report over-committed" 15 port_over
echo "    port-normal-qos: $(ctl --json port show port-normal-qos | /usr/bin/python3 -c '
import json, sys; s = json.load(sys.stdin)["binding_status"]; print(s["state"], "-", s["detail"])')"
grep -E "over-committed: (eth-test|br-test) egress" "$work/agent.log" | tail -1 | sed 's/^/    /' ||
  { echo "demo.sh: CHECK FAILED: the agent did not warn about the over-commitment" >&2; exit 1; }
echo "    what the kernel holds on eth-test now:"
in_ns tc class show dev eth-test | sed 's/^/      /'
new_total() { in_ns tc class show dev eth-test | grep -q "ceil 500Kbit"; }
wait_for "the $qos_backend backend to apply the new total (500 kbit/s)" 15 new_total
echo "    ok: the $qos_backend backend applied the new total"
sed -i 's/br-test:500:500/br-test:1500:1500/' "$work/agent.ini"
kill -HUP "$agent_pid"
port_ok() { ctl --json port show port-normal-qos | /usr/bin/python3 -c '
import json, sys; sys.exit(0 if json.load(sys.stdin)["binding_status"]["egress"]["state"] == "enforced" else 1)'; }
wait_for "vm0's port to be enforced again at 1500 kbit/s" 15 port_ok
wait_for "vm0's class at the old total again" 15 vm0_class
echo "    restored: total 1500, egress enforced"

step "delete vm0: the allocation is freed and the agent removes the classes"
ctl server delete vm0
usage_is 0 0 0
no_classes() { [ -z "$(in_ns tc class show dev eth-test)" ]; }
wait_for "the agent to remove vm0's classes" 20 no_classes
echo "tc classes on eth-test after the delete: $(in_ns tc class show dev eth-test | wc -l)"

step "control run: the uplink limited to the same 1500 kbit/s (tbf), without bwfloor's classes"
in_ns tc qdisc add dev eth-test root tbf rate 1500kbit burst 4kb latency 200ms
read -r control noisy_c < <(contention)
in_ns tc qdisc del dev eth-test root
printf '    vm0 without a guarantee: %s kbit/s; the neighbour: %s kbit/s\n' "$control" "$noisy_c"

step "result: egress of vm0 against 8 streams on a 1500 kbit/s uplink"
printf '    with the 1000 kbit/s guarantee: %6s kbit/s\n    without (control):              %6s kbit/s\n' \
  "$guaranteed" "$control"
if [ "${guaranteed%.*}" -lt 950 ]; then
  echo "demo.sh: the guarantee did NOT hold (< 95% of 1000 kbit/s)" >&2
  exit 1
fi
if [ -n "${BWFLOOR_DEMO_PG_URL:-}" ]; then
  step "replicas: kill -9 the replica the agent talks to (8779); it fails over to 8778"
  kill -9 "${pids[1]}"
  ctl server create vm2 --port port-normal-qos
  check "vm2's port enforced through the remaining replica" \
    "j['binding_host'] == 'devstack0' and j['binding_status']['state'] in ('enforced', 'placement-only')" \
    ctl --json port show port-normal-qos
  echo "    the agent's log of the switch:"
  grep -E "using http://127.0.0.1:8778" "$work/agent.log" | tail -2 | sed 's/^/    /' ||
    { echo "demo.sh: CHECK FAILED: the agent did not log its failover to 8778" >&2; exit 1; }
  ctl server delete vm2
  usage_is 0 0 0
fi
step "done; cleaning up"
