#!/bin/sh
# write-completion.sh BINARY OUTPUT: the binary's own bash completion script (--bash-completion).
set -e
"$1" --bash-completion >"$2.tmp"
mv "$2.tmp" "$2"
