#!/usr/bin/env bash
# The test command: installs dependencies (Debian packages), builds, runs every CTest label
# (unit, integration, conformance, and the format check), then the core unit tests under ASan+UBSan.
# Integration tests need root and network namespaces: run as root (CI does).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

./scripts/install-deps.sh
cmake --preset default
cmake --build --preset default
ctest --preset default --no-tests=error "$@"

# Sanitizer run of the pure-logic suites (a full ASan build of every binary costs more than it finds).
cmake --preset asan >/dev/null
cmake --build --preset asan --target core_test
ctest --test-dir build-asan -L unit -R '^(Core|Uuid|Kbps|Ini|Result|Logging)' --no-tests=error \
  --output-on-failure

echo "test.sh: all tests passed in $(( $(date +%s) - start )) s"
