#!/usr/bin/env bash
# Fails if clang-format (the repository's .clang-format) would change any tracked C++ file.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -- '*.cpp' '*.h' 2>/dev/null || true)
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find core placement agent cli dataplane tests -name '*.cpp' -o -name '*.h')
fi
[ ${#files[@]} -eq 0 ] && exit 0
clang-format --dry-run --Werror "${files[@]}"
echo "format ok: ${#files[@]} files"
