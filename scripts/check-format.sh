#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fails when a C file does not match .clang-format (STYLE rule 18).
set -uo pipefail
cd "$(dirname "$0")/.."
fmt=$(command -v clang-format-14 || command -v clang-format)
files=$(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
bad=0
for f in $files; do
  [ -f "$f" ] || continue
  if ! "$fmt" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not ok - $f is not clang-formatted (run: $fmt -i $f)"
    bad=$((bad + 1))
  fi
done
n=$(echo "$files" | grep -c . || true)
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
