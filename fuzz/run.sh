#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake preset `fuzz`, clang + ASan + UBSan, in build-fuzz/) when
# needed, runs every input of fuzz/regressions/<target>/ once, then fuzzes each target for a
# bounded time from a temporary copy of fuzz/corpus/<target>/ (the tree is never written).
# Prints per target the executions, execs/s and crashes; exits non-zero when a regression input
# fails or a target crashed, leaked or timed out, keeping the logs and crash files in the
# temporary directory it names (removed when everything passed). See fuzz/README.md.
#
# Usage: fuzz/run.sh [-t SECONDS] [-j JOBS] [--no-build] [TARGET...]
#   -t, --time SECONDS   fuzzing time per target (default 50)
#   -j, --jobs N         parallel compile jobs for the build (default: ninja's)
#   --no-build           use build-fuzz/ as it is
#   TARGET               http_request_fuzzer, config_fuzzer, netlink_fuzzer (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=50
jobs=()
build=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -t | --time) seconds=$2; shift 2 ;;
    -j | --jobs) jobs=(-j "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(http_request_fuzzer config_fuzzer netlink_fuzzer)

# Per target: the largest input worth trying, and extra libFuzzer flags.
max_len() {
  case "$1" in
    http_request_fuzzer) echo 4096 ;;  # a request line, headers and a Placement body
    config_fuzzer) echo 8192 ;;        # conf/agent.ini is 3.7 kB
    netlink_fuzzer) echo 4096 ;;       # a VF list of ~20 VFs with statistics
    *) echo "run.sh: unknown target $1" >&2; exit 2 ;;
  esac
}
extra_flags() {
  case "$1" in
    http_request_fuzzer) echo "-dict=$root/fuzz/http.dict" ;;
    *) echo "" ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/bwfloor-fuzz.XXXXXX")
if [ $build -eq 1 ]; then
  start=$(date +%s)
  # clang warns where GCC does not (the preset turns -Werror off): the log keeps them.
  log=$work/build.log
  if ! { cmake --preset fuzz && cmake --build --preset fuzz "${jobs[@]}"; } >"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "run.sh: build FAILED (log: $log)" >&2
    exit 1
  fi
  echo "run.sh: build took $(($(date +%s) - start)) s"
fi
bin=$root/build-fuzz/bin
for t in "${targets[@]}"; do
  max_len "$t" >/dev/null
  [ -x "$bin/$t" ] || { echo "run.sh: $bin/$t not built" >&2; exit 2; }
done

symbolizer=$(command -v llvm-symbolizer-15 || command -v llvm-symbolizer || true)
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=0
summary=()

# 1. Regressions: every kept input once, as a plain input, each on its own (so that every
#    failing one is named).
for t in "${targets[@]}"; do
  shopt -s nullglob
  files=("$root/fuzz/regressions/$t"/*)
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || continue
  bad=0
  for f in "${files[@]}"; do
    log=$work/$t.regression.$(basename "$f").log
    if ! "$bin/$t" "$f" >"$log" 2>&1; then
      bad=$((bad + 1))
      echo "run.sh: $t: regression input $(basename "$f") FAILS (log: $log):" >&2
      grep -E 'ERROR|SUMMARY|runtime error|_fuzzer: ' "$log" | head -3 >&2 || true
      grep -E '^    #[0-9]+ .* in bwfloor::' "$log" | head -2 >&2 || true
    fi
  done
  echo "run.sh: $t: $((${#files[@]} - bad)) of ${#files[@]} regression input(s) pass"
  if [ $bad -gt 0 ]; then
    summary+=("$t: $bad regression input(s) fail")
    failed=1
  fi
done

# 2. Timed runs from a copy of the seed corpus.
for t in "${targets[@]}"; do
  corpus=$work/corpus/$t
  artifacts=$work/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -r "$root/fuzz/corpus/$t/." "$corpus/"
  log=$work/$t.log
  echo "run.sh: fuzzing $t for $seconds s"
  # shellcheck disable=SC2046  # extra_flags is empty or one word
  "$bin/$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" $(extra_flags "$t") "$corpus" \
    >"$log" 2>&1 && rc=0 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)
  crashes=$(find "$artifacts" -type f | wc -l)
  line=$(printf '%-20s %9s execs %6s execs/s %5s new units %2s crash(es)' "$t" "${execs:-?}" \
    "${rate:-?}" "${added:-?}" "$crashes")
  if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    failed=1
    line="$line  FAILED (exit $rc, log $log)"
    grep -E 'ERROR|SUMMARY|runtime error|_fuzzer: ' "$log" | head -5 >&2 || true
  fi
  echo "run.sh: $line"
  summary+=("$line")
done

echo
echo "run.sh: summary (${seconds} s per target)"
printf '  %s\n' "${summary[@]}"
if [ $failed -ne 0 ]; then
  echo "run.sh: FAILED; logs and crash files kept in $work (artifacts/<target>/); add a crash as" \
    "fuzz/regressions/<target>/<name> (fuzz/README.md)" >&2
  exit 1
fi
rm -rf "$work"
echo "run.sh: all targets passed"
