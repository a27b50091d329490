#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Banned calls (STYLE rule 19, after curl's checksrc): each has a bounded or
# checked replacement in the codebase.
set -uo pipefail
cd "$(dirname "$0")/.."
banned='sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets|system|rand'
files=$(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
bad=0
for f in $files; do
  [ -f "$f" ] || continue
  # A call is the name not preceded by an identifier character or '.', followed by '('.
  hits=$(grep -nE "(^|[^A-Za-z0-9_.>])($banned)[[:space:]]*\(" "$f" | grep -vE '^\s*[0-9]+:\s*(/?\*|//)')
  if [ -n "$hits" ]; then
    echo "not ok - banned call in $f:"
    echo "$hits" | sed 's/^/    /'
    bad=$((bad + 1))
  fi
done
n=$(echo "$files" | grep -c . || true)
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
