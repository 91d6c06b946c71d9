#!/usr/bin/env bash
# The test command: installs dependencies (Debian packages), builds, runs every CTest label
# (unit, integration, conformance, and the format check), then the core unit tests under ASan+UBSan,
# then the fuzzers for a bounded time.
# Integration tests need root and network namespaces: run as root (CI does). The `vm` tests run in
# the vf-vm rig, ../shared/rig/vf-vm next to the repository (BWFLOOR_VF_RIG_DIR overrides): its
# setup.sh (idempotent: ~36 s on a fresh machine, ~0.2 s after) runs here; without the rig those
# tests are not registered (loudly).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

./scripts/install-deps.sh
rig=${BWFLOOR_VF_RIG_DIR:-$(realpath -m ../shared/rig/vf-vm)}
if [ -x "$rig/setup.sh" ]; then
  "$rig/setup.sh"
else
  echo "test.sh: WARNING: no vf-vm rig at $rig (expected ../shared/rig/vf-vm next to the" \
    "repository): the vm-labelled tests (SR-IOV on netdevsim in a VM) are NOT run here" >&2
fi
cmake --preset default -DBWFLOOR_VF_RIG_DIR="$rig"
cmake --build --preset default
ctest --preset default --no-tests=error "$@"

# Sanitizer run of the pure-logic suites (a full ASan build of every binary costs more than it finds).
cmake --preset asan >/dev/null
cmake --build --preset asan --target core_test http_server_test
ctest --test-dir build-asan -L unit -R '^(Core|Uuid|Kbps|Ini|Result|Logging|Metrics|Http)' --no-tests=error \
  --output-on-failure

# libFuzzer targets under ASan + UBSan (fuzz/README.md): every regression input, then 45 s per
# target (HTTP requests through both APIs, the INI/config loaders, netlink answers).
./fuzz/run.sh -t 45

echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
