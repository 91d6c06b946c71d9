#!/usr/bin/env bash
# bwfloor end to end on a real SR-IOV driver (netdevsim in the vf-vm rig; CTest runs this inside
# the VM, as root, with BWFLOOR_VF_PF / BWFLOOR_VF_COUNT / BWFLOOR_VF_DEVLINK set by the rig):
#  1. bwfloor-agent discovers the PF and its VFs over netlink and reports the SR-IOV agent's
#     provider subtree (agent provider, PF provider with physnet + vnic-type traits, inventories);
#  2. a server with a direct port whose MAC is a VF's is scheduled, claimed and bound; the agent
#     finds that VF by MAC and programs min_tx_rate (kbit/s rounded up to Mbit/s), keeping the
#     VF's max_tx_rate; `server delete` takes it back to 0;
#  3. in switchdev mode the driver refuses VF rates (EOPNOTSUPP): `server create` fails with the
#     agent's reason (device, VF, errno) and nothing stays allocated or programmed.
#
# Usage: sriov_agent_test.sh BIN_DIR   (bwfloor-server, bwfloor-agent, bwfloorctl)
set -euo pipefail

bin=${1:?usage: sriov_agent_test.sh BIN_DIR}
pf=${BWFLOOR_VF_PF:?run inside the vf-vm rig (BWFLOOR_VF_PF unset)}
vfs=${BWFLOOR_VF_COUNT:?}
devlink_dev=${BWFLOOR_VF_DEVLINK:?}
py=/usr/bin/python3
work=$(mktemp -d /tmp/bwfloor-sriov.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ $rc -ne 0 ]; then
    for log in server agent; do
      echo "--- $log.log (last 40 lines)" >&2
      tail -40 "$work/$log.log" >&2
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
ctl() { "$bin/bwfloorctl" "$@"; }
wait_for() {  # WHAT SECONDS COMMAND...: polls COMMAND until it succeeds
  local what=$1 deadline=$((SECONDS + $2)); shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.1
  done
}
# json_true WHAT EXPR COMMAND...: EXPR (Python, over the command's JSON output as `j`) holds.
json_true() {
  local what=$1 expr=$2; shift 2
  "$@" | $py -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)" ||
    fail "$what"
  ok "$what"
}
# The kernel's view of VF N: "min max mac" (rates in Mbit/s) via RTM_GETLINK with RTEXT_FILTER_VF.
vf_state() {
  ip -j -d link show dev "$pf" | $py -c "
import json, sys
vf = [v for v in json.load(sys.stdin)[0]['vfinfo_list'] if v['vf'] == $1][0]
print(vf['rate']['min_tx'], vf['rate']['max_tx'], vf['address'])"
}
vf_min_is() { [ "$(vf_state "$1" | cut -d' ' -f1)" = "$2" ]; }

echo "PF $pf with $vfs VFs ($devlink_dev), kernel $(uname -r)"
[ "$vfs" -ge 4 ] || fail "needs at least 4 VFs"
for ((i = 0; i < vfs; i++)); do ip link set "$pf" vf "$i" mac "02:00:00:00:10:$(printf %02x "$i")"; done
ip link set "$pf" vf 2 max_tx_rate 900  # an operator's cap, to be kept
ip link set lo up

cat >"$work/server.ini" <<INI
[api]
bind = 127.0.0.1:8778
auth_strategy = noauth2
binding_timeout = 30
[placement_database]
connection = sqlite:///$work/placement.db
INI
cat >"$work/agent.ini" <<INI
[DEFAULT]
host = vfhost
[agent]
report_interval = 1
resync_interval = 5
status_socket = $work/agent.sock
[placement]
endpoint = http://127.0.0.1:8778/placement
[sriov_nic]
physical_device_mappings = physnet0:$pf
resource_provider_bandwidths = $pf:10000:10000
INI
"$bin/bwfloor-agent" --check-config "$work/agent.ini" >/dev/null || fail "agent.ini refused"
"$bin/bwfloor-server" --config "$work/server.ini" >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "bwfloor-server" 20 ctl status
"$bin/bwfloor-agent" --config "$work/agent.ini" >"$work/agent.log" 2>&1 &
pids+=($!)
synced() {
  ctl --json agent list | $py -c '
import json, sys
a = json.load(sys.stdin)["agents"]
sys.exit(0 if len(a) == 1 and a[0]["alive"] and a[0]["resources_synced"] else 1)'
}
wait_for "the SR-IOV agent alive and synced" 30 synced

echo "== 1. the SR-IOV agent's provider subtree, from netlink discovery"
ctl provider tree
agent_rp="vfhost:NIC Switch agent"
pf_rp="$agent_rp:$pf"
json_true "the agent reports as 'NIC Switch agent' with $pf in its device mappings" \
  "j['agents'][0]['agent_type'] == 'NIC Switch agent' and j['agents'][0]['configurations']['device_mappings'] == {'physnet0': ['$pf']}" \
  ctl --json agent list
agent_uuid=$(ctl --json provider show "$agent_rp" | $py -c 'import json,sys; print(json.load(sys.stdin)["uuid"])')
json_true "'$pf_rp' sits under '$agent_rp' with physnet0 and the SR-IOV vnic types" \
  "j['parent_provider_uuid'] == '$agent_uuid' and {'CUSTOM_PHYSNET_PHYSNET0', 'CUSTOM_VNIC_TYPE_DIRECT', 'CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL', 'CUSTOM_VNIC_TYPE_MACVTAP'} <= set(j['traits']) and 'CUSTOM_VNIC_TYPE_NORMAL' not in j['traits']" \
  ctl --json provider show "$pf_rp"
json_true "'$pf_rp' has 10000 kbit/s each way" \
  "j['inventories']['NET_BW_EGR_KILOBIT_PER_SEC']['total'] == 10000 and j['inventories']['NET_BW_IGR_KILOBIT_PER_SEC']['total'] == 10000" \
  ctl --json provider show "$pf_rp"

echo "== 2. a direct port on VF 2 (by MAC): scheduled, claimed, min_tx_rate programmed"
ctl network create net0 --physnet physnet0 >/dev/null
ctl qos policy create gold >/dev/null
ctl qos rule create gold --type minimum-bandwidth --min-kbps 2500 --egress >/dev/null
ctl qos rule create gold --type minimum-bandwidth --min-kbps 1000 --ingress >/dev/null
ctl port create p2 --network net0 --vnic-type direct --qos-policy gold --mac 02:00:00:00:10:02 \
  >/dev/null
before=$(vf_state 2)
ctl server create vm2 --port p2 || fail "server create vm2"
ctl port show p2
ctl --json port show p2 | $py -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["binding_status"]))'
ctl --json queues --socket "$work/agent.sock"
json_true "p2 is bound on vfhost, allocated on $pf_rp, placement-only for its ingress minimum" \
  "j['binding_host'] == 'vfhost' and j['binding_profile']['allocation'] == '$(ctl --json provider show "$pf_rp" | $py -c 'import json,sys; print(json.load(sys.stdin)["uuid"])')' and j['binding_status']['state'] == 'placement-only' and 'ingress' in j['binding_status']['detail']" \
  ctl --json port show p2
after=$(vf_state 2)
echo "VF 2 (min max mac, Mbit/s): before '$before', bound '$after'"
[ "$after" = "3 900 02:00:00:00:10:02" ] ||
  fail "VF 2 should read back min_tx_rate 3 (2500 kbit/s rounded up), max 900 kept"
ok "VF 2 min_tx_rate 3 Mbit/s, max_tx_rate 900 kept (read back over RTM_GETLINK)"
for i in 0 1 3; do vf_min_is "$i" 0 || fail "VF $i was touched: $(vf_state "$i")"; done
ok "the other VFs are untouched"
json_true "$pf_rp usage 2500/1000 kbit/s" \
  "j['usages']['NET_BW_EGR_KILOBIT_PER_SEC'] == 2500 and j['usages']['NET_BW_IGR_KILOBIT_PER_SEC'] == 1000" \
  ctl --json provider show "$pf_rp"
ctl queues --socket "$work/agent.sock"

ctl server delete vm2
wait_for "VF 2's min_tx_rate back to 0" 15 vf_min_is 2 0
[ "$(vf_state 2)" = "0 900 02:00:00:00:10:02" ] || fail "VF 2 after delete: $(vf_state 2)"
ok "server delete: VF 2 min_tx_rate 0 again, max 900 kept"
json_true "$pf_rp usage 0 after the delete" \
  "j['usages']['NET_BW_EGR_KILOBIT_PER_SEC'] == 0 and not j['allocations']" \
  ctl --json provider show "$pf_rp"

echo "== 3. switchdev mode: the driver refuses VF rates; the server is not created"
devlink dev eswitch set "$devlink_dev" mode switchdev
ctl port create p3 --network net0 --vnic-type direct --qos-policy gold --mac 02:00:00:00:10:03 \
  >/dev/null
if ctl server create vm3 --port p3 >"$work/vm3.out" 2>&1; then
  cat "$work/vm3.out"
  fail "server create vm3 succeeded although the driver refuses VF rates"
fi
cat "$work/vm3.out"
grep -q "$pf" "$work/vm3.out" && grep -q "VF 3" "$work/vm3.out" &&
  grep -Eq "EOPNOTSUPP|Operation not supported" "$work/vm3.out" ||
  fail "the error must name the device, the VF and the errno"
ok "server create vm3 fails with the driver's refusal (device, VF, errno)"
json_true "nothing stays allocated on $pf_rp" \
  "j['usages']['NET_BW_EGR_KILOBIT_PER_SEC'] == 0 and not j['allocations']" \
  ctl --json provider show "$pf_rp"
json_true "no server vm3" "[s['name'] for s in j['servers']] == []" ctl --json server list
vf_min_is 3 0 || fail "VF 3 changed: $(vf_state 3)"
ok "VF 3 unchanged"
echo "PASS"
