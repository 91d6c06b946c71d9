#!/usr/bin/env bash
# The bash completion each binary generates (--bash-completion, core/cli_completion.h) completes
# subcommands, options at each level, and file names after a file option. BIN_DIR: build/bin.
set -euo pipefail
bin=$1
failures=0
# expect BINARY FUNCTION EXPECTED WORDS...: what bash offers after WORDS (the last one is being
# completed) must be EXPECTED.
expect() {
  local binary=$1 fn=$2 want=$3; shift 3
  local got
  got=$(bash -c 'source <("$1" --bash-completion); f=$2; shift 2; COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1)); "$f"; echo "${COMPREPLY[*]}"' _ "$bin/$binary" "$fn" "$@")
  if [ "$got" != "$want" ]; then
    echo "FAIL: $* -> '$got', expected '$want'" >&2
    failures=$((failures + 1))
  else
    echo "ok: $* -> $got"
  fi
}
expect bwfloorctl _bwfloorctl "port" bwfloorctl po
expect bwfloorctl _bwfloorctl "create" bwfloorctl --json port cr
expect bwfloorctl _bwfloorctl "--vnic-type" bwfloorctl port create p1 --vn
expect bwfloorctl _bwfloorctl "policy rule --help" bwfloorctl qos ""
expect bwfloorctl _bwfloorctl "" bwfloorctl nosuchcommand --vn
# Issue 18: the minimum-packet-rate rule's options.
expect bwfloorctl _bwfloorctl "--min-kbps --min-kpps" bwfloorctl qos rule create qp --min-k
expect bwfloorctl _bwfloorctl "--direction" bwfloorctl qos rule create qp --dir
expect bwfloor-agent _bwfloor_agent "--config --config-file" bwfloor-agent --conf
expect bwfloor-server _bwfloor_server "--check-config" bwfloor-server --che
# After a file option: file names.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
touch "$dir/agent.ini"
expect bwfloor-agent _bwfloor_agent "$dir/agent.ini" bwfloor-agent --config-file "$dir/age"
# The hidden flag itself is not offered.
expect bwfloorctl _bwfloorctl "" bwfloorctl --bash
[ "$failures" -eq 0 ]
