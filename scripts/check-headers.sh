#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every header compiles on its own (STYLE rule 5) and has its include guard
# PL_<DIR>_<FILE>_H.
set -uo pipefail
cd "$(dirname "$0")/.."
cflags=$(pkg-config --cflags jansson yaml-0.1 libmicrohttpd gnutls openssl 2>/dev/null)
bad=0 n=0
for h in $(git ls-files 'core/*.h' 'policies/*.h' 'engine/*.h' 'certs/*.h' 'kube/*.h' 'server/*.h' 'audit/*.h' 'cli/*.h'; \
           git ls-files --others --exclude-standard 'core/*.h' 'policies/*.h' 'engine/*.h' 'certs/*.h' 'kube/*.h' 'server/*.h' 'audit/*.h' 'cli/*.h'); do
  [ -f "$h" ] || continue
  n=$((n + 1))
  guard=PL_$(echo "$h" | tr 'a-z/.' 'A-Z__')
  if ! grep -q "#ifndef $guard" "$h"; then
    echo "not ok - $h: include guard should be $guard"
    bad=$((bad + 1))
    continue
  fi
  # shellcheck disable=SC2086
  if ! echo "#include \"$h\"" | cc -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -I. $cflags -fsyntax-only -x c - 2>/tmp/hdr.$$; then
    echo "not ok - $h does not compile alone:"; sed 's/^/    /' /tmp/hdr.$$ | head -5
    bad=$((bad + 1))
  fi
done
rm -f /tmp/hdr.$$
echo "$((n - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
