#!/usr/bin/env bash
# Installs every build and test dependency of bwfloor from Debian 12's packages (root, apt-get).
# Idempotent: a second run installs nothing new. Nothing is fetched from anywhere but Debian's mirrors.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get)" >&2
  exit 1
fi

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  openssl  # the HTTPS tests make a throwaway CA
  clang-format clang-tidy
  # fuzzing (fuzz/README.md): clang 15 with libFuzzer and the sanitizer runtimes
  # (libclang-common-15-dev, a dependency), llvm-symbolizer-15 for readable stacks and the
  # fuzzers' LeakSanitizer suppressions
  clang-15 libfuzzer-15-dev llvm-15
  # libraries named by the design
  libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libmnl-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # libraries chosen from Debian (see README "Dependencies")
  libboost-dev nlohmann-json3-dev libcli11-dev libinih-dev libsqlite3-dev libpq-dev libssl-dev
  libyaml-cpp-dev  # Placement policy files (oslo.policy YAML)
  # libopenvswitch is built from Debian's own source package (scripts/build-libopenvswitch.sh)
  openvswitch-source python3 autoconf automake libtool
  # test rigs: OVS daemons, traffic, netns tooling
  openvswitch-switch openvswitch-common iproute2 iputils-ping ethtool iperf3 procps psmisc kmod
  # real external clients and reference services for conformance tests and benchmarks
  python3-openstackclient python3-osc-placement sqlite3 postgresql curl
  # the real OpenStack Placement 8.0 that the differential test compares bwfloor-server with
  python3-placement uwsgi-core uwsgi-plugin-python3
  # a real Prometheus scrapes the server in the metrics test
  prometheus
  # standard trait and resource-class names, exactly as Debian's Placement loads them
  python3-os-traits python3-os-resource-classes
  # packaging: CPack DEB (dpkg-shlibdeps) and RPM (rpmbuild), man pages (help2man), package and
  # unit checks (lintian, rpmlint, systemd-analyze; man for its Documentation= check)
  dpkg-dev rpm file systemd help2man lintian rpmlint man-db
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services from these packages must not start on install (CI and tests start their own instances).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap 'if [ $created_policy -eq 1 ]; then rm -f "$policy"; fi' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
