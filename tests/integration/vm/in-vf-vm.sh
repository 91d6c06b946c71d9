#!/usr/bin/env bash
# Runs a test command inside the vf-vm rig (a QEMU VM with Debian's full 6.1 kernel: netdevsim
# SR-IOV VFs, the openvswitch module, flower; see ../shared/rig/vf-vm/README.md). CTest's `vm`
# tests go through here so that a missing or broken rig FAILS with one clear message, never skips.
#
# Usage: in-vf-vm.sh RIG_DIR [vf-vm.sh options] -- COMMAND [ARGS...]
#   RIG_DIR  the rig's directory (CMake's BWFLOOR_VF_RIG_DIR, default <repo>/../shared/rig/vf-vm)
# Exit status: COMMAND's; 1 when the rig is missing; vf-vm.sh's 124 (timeout) / 125 (rig failed).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "in-vf-vm.sh: usage: in-vf-vm.sh RIG_DIR [vf-vm.sh options] -- COMMAND [ARGS...]" >&2
  exit 2
fi
rig=$1
shift

if [ ! -x "$rig/vf-vm.sh" ]; then
  cat >&2 <<EOF
FAIL: the vf-vm rig is missing: $rig/vf-vm.sh is not an executable file.
  The vm-labelled tests run inside that rig; they fail (never skip) without it. The rig lives in
  ../shared/rig/vf-vm next to the repository's root (reconfigure with -DBWFLOOR_VF_RIG_DIR=DIR to
  point elsewhere), and scripts/test.sh runs its setup.sh before CTest.
EOF
  exit 1
fi

set +e
"$rig/vf-vm.sh" "$@"
rc=$?
set -e
case $rc in
  124) echo "FAIL: the VM run timed out (vf-vm.sh exit 124)" >&2 ;;
  125) echo "FAIL: the VM could not run the test (vf-vm.sh exit 125; is $rig/setup.sh done?)" >&2 ;;
esac
exit "$rc"
