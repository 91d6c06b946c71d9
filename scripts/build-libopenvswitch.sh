#!/usr/bin/env bash
# Builds the static libopenvswitch (with the generated vswitch OVSDB IDL) from Debian's
# openvswitch-source package and installs it, with the headers the IDL needs, into a cache dir:
#
#   CACHE_DIR/lib/libopenvswitch.a
#   CACHE_DIR/lib/libopenvswitch.pc          (Libs.private = the system libs it needs)
#   CACHE_DIR/include/config.h               (OVS's configure result; include it first)
#   CACHE_DIR/include/openvswitch/*.h        (public headers)
#   CACHE_DIR/include/openflow/*.h           (public headers)
#   CACHE_DIR/include/lib/*.h                (private headers: <lib/ovsdb-idl.h>, <lib/vswitch-idl.h>)
#   CACHE_DIR/include/odp-netlink*.h         (generated private headers lib/ headers include)
#   CACHE_DIR/build.log, CACHE_DIR/stamp
#
# Usage: scripts/build-libopenvswitch.sh [CACHE_DIR]
#   CACHE_DIR defaults to ${BWFLOOR_OVS_CACHE:-/var/cache/bwfloor/openvswitch-<version>}; when that
#   default cannot be created (not root), ${XDG_CACHE_HOME:-~/.cache}/bwfloor/... is used instead.
# Idempotent: if CACHE_DIR/stamp matches the source tarball (version + sha256) and this recipe, it
# prints "cached" and exits. The last line of stdout is always BWFLOOR_OVS_PREFIX=<CACHE_DIR>.
# Environment: BWFLOOR_OVS_TARBALL (default /usr/src/openvswitch/openvswitch.tar.gz),
#   BWFLOOR_OVS_JOBS (default nproc), BWFLOOR_OVS_KEEP_BUILD=1 keeps the build tree.
set -euo pipefail

# Bump when the configure options, targets or install layout below change.
readonly recipe=1
# Why each option (none is needed to get lib/libopenvswitch.a with the vswitch IDL: configure's
# defaults already build static-only, and the IDL is part of libopenvswitch.la; OVS >= 3.0 has no
# kernel module, and docs are only built by "make all", which is never run here):
#   --disable-ssl       libssl-dev is installed (install-deps.sh), so configure would otherwise compile
#                       stream-ssl and require -lssl -lcrypto; bwfloor talks to ovsdb-server over
#                       unix:/punix: only.
# The rest pin off optional libraries that configure links automatically whenever their -dev package
# happens to be installed, so that the machine-wide cache always has the same link interface
# (-latomic -lm). None is used by the OVSDB IDL:
#   --disable-libcapng                   libcap-ng-dev (ovs-vswitchd --user)
#   --disable-afxdp                      libbpf-dev + libxdp-dev + libnuma-dev (netdev-afxdp)
#   ac_cv_lib_unbound_ub_ctx_create=no   libunbound-dev (DNS names in remotes); no --disable switch
#   ac_cv_lib_unwind_unw_backtrace=no    libunwind-dev (backtraces); no --disable switch
readonly configure_opts=(--disable-ssl --disable-libcapng --disable-afxdp
  ac_cv_lib_unbound_ub_ctx_create=no ac_cv_lib_unwind_unw_backtrace=no)

tarball=${BWFLOOR_OVS_TARBALL:-/usr/src/openvswitch/openvswitch.tar.gz}
[ -r "$tarball" ] || {
  echo "build-libopenvswitch.sh: $tarball not found (apt-get install openvswitch-source)" >&2
  exit 1
}
if [ "$tarball" = /usr/src/openvswitch/openvswitch.tar.gz ] &&
  version=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) && [ -n "$version" ]; then
  :
else
  version=$(tar -xzOf "$tarball" openvswitch/package.m4 |
    sed -n 's/^m4_define(\[AT_PACKAGE_VERSION\], *\[\(.*\)\])$/\1/p')
fi
[ -n "$version" ] || { echo "build-libopenvswitch.sh: cannot tell the version of $tarball" >&2; exit 1; }
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
expected_stamp="openvswitch-source $version
tarball-sha256 $sha
recipe $recipe
configure ${configure_opts[*]}"

is_cached() {
  [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$expected_stamp" ] &&
    [ -f "$cache/lib/libopenvswitch.a" ] && [ -f "$cache/include/lib/vswitch-idl.h" ]
}

if [ $# -ge 1 ] && [ -n "$1" ]; then
  cache=$1
elif [ -n "${BWFLOOR_OVS_CACHE:-}" ]; then
  cache=$BWFLOOR_OVS_CACHE
else
  cache=/var/cache/bwfloor/openvswitch-$version
  if ! is_cached && ! { mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ]; }; then
    cache=${XDG_CACHE_HOME:-$HOME/.cache}/bwfloor/openvswitch-$version
    echo "build-libopenvswitch.sh: /var/cache/bwfloor not writable, using $cache"
  fi
fi
done_msg() { echo "BWFLOOR_OVS_PREFIX=$cache"; }

if is_cached; then
  echo "cached: libopenvswitch $version in $cache"
  done_msg
  exit 0
fi

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Serialise concurrent configures (several build dirs, CI jobs) that share the machine-wide cache.
exec 9>"$cache/.lock"
flock 9
if is_cached; then
  echo "cached: libopenvswitch $version in $cache (built by a concurrent run)"
  done_msg
  exit 0
fi

start=$(date +%s)
log=$cache/build.log
: >"$log"
work=$(mktemp -d "${TMPDIR:-/tmp}/bwfloor-ovs-build.XXXXXX")
cleanup() {
  if [ "${BWFLOOR_OVS_KEEP_BUILD:-0}" = 1 ]; then echo "build tree kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "build-libopenvswitch.sh: FAILED at: $1 (after $(($(date +%s) - start))s); last lines of $log:" >&2
  tail -n 40 "$log" >&2
  exit 1
}
step() {
  local t="[+$(($(date +%s) - start))s]"
  echo "== $t $1" >>"$log"
  echo "build-libopenvswitch.sh: $t $1"
}

# The cache is machine-wide and keyed on the tarball only: keep the caller's environment (a CMake
# configure run from inside make, sanitizer CFLAGS, ...) out of the build.
unset MAKEFLAGS MFLAGS MAKELEVEL CC CFLAGS CPPFLAGS LDFLAGS LIBS CXX CXXFLAGS
jobs=${BWFLOOR_OVS_JOBS:-$(nproc)}

step "building libopenvswitch $version (-j$jobs) in $work, log $log"
tar -xzf "$tarball" -C "$work" >>"$log" 2>&1 || fail "unpack $tarball"
src=$work/openvswitch
cd "$src"

step "configure ${configure_opts[*]}"
./configure "${configure_opts[@]}" >>"$log" 2>&1 || fail configure

# "make lib/libopenvswitch.la" alone does not generate BUILT_SOURCES (odp-netlink.h, the IDLs):
# generate those under include/ and lib/ first (not tests/, vtep/, ofproto/), then the library.
# shellcheck disable=SC2016 # $(...) is make syntax, not shell
printf 'bwfloor-built-sources: $(filter include/%% lib/%%,$(BUILT_SOURCES))\n' >"$work/extra.mk"
step "make generated sources"
make -j"$jobs" -f Makefile -f "$work/extra.mk" bwfloor-built-sources >>"$log" 2>&1 ||
  fail "make generated sources"
step "make lib/libopenvswitch.la"
make -j"$jobs" lib/libopenvswitch.la >>"$log" 2>&1 || fail "make lib/libopenvswitch.la"
# (nm into a variable: "nm | grep -q" can fail on SIGPIPE under pipefail.)
syms=$(nm -g --defined-only lib/.libs/libopenvswitch.a 2>>"$log") || fail "nm libopenvswitch.a"
grep -qE ' [DRB] ovsrec_idl_class$' <<<"$syms" ||
  fail "check: ovsrec_idl_class (vswitch IDL) not in libopenvswitch.a"

step "install into $cache"
stage=$cache/.staging
rm -rf "$stage"
mkdir -p "$stage/include/openvswitch" "$stage/include/openflow" "$stage/include/lib" "$stage/lib"
{
  cp lib/.libs/libopenvswitch.a "$stage/lib/" &&
    sed -e "s|^prefix=.*|prefix=$cache|" lib/libopenvswitch.pc >"$stage/lib/libopenvswitch.pc" &&
    cp config.h include/odp-netlink.h include/odp-netlink-macros.h "$stage/include/" &&
    cp include/openvswitch/*.h "$stage/include/openvswitch/" &&
    cp include/openflow/*.h "$stage/include/openflow/" &&
    cp lib/*.h "$stage/include/lib/"
} >>"$log" 2>&1 || fail install
rm -rf "${cache:?}/include" "${cache:?}/lib"
mv "$stage/include" "$stage/lib" "$cache/"
rmdir "$stage"
printf '%s\n' "$expected_stamp" >"$cache/stamp"

elapsed=$(($(date +%s) - start))
echo "built libopenvswitch $version in ${elapsed}s (wall clock) -> $cache" | tee -a "$log"
done_msg
