#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages plimsoll needs to build and test, only
# when something is missing (so a second run costs nothing). Run as root or
# with sudo available.
#   scripts/install-deps.sh          build + run (quick start)
#   scripts/install-deps.sh --test   also everything the test suite uses
set -euo pipefail

runtime=(build-essential meson ninja-build pkg-config libmicrohttpd-dev libgnutls28-dev
         libjansson-dev libyaml-dev libssl-dev libcurl4-openssl-dev libpcre2-dev
         curl jq openssl ca-certificates git)
testing=(libcmocka-dev clang clang-format-14 clang-tools-14 libclang-rt-14-dev valgrind
         python3 python3-yaml python3-jsonpatch python3-jsonschema unzip wrk
         prometheus
         chromium)  # chromium: the dashboard page in a real browser (test/e2e/page_check.js)

want=("${runtime[@]}")
[ "${1:-}" = "--test" ] && want+=("${testing[@]}")
# Helm comes from the npm registry (scripts/get-helm.sh). Machines here may
# carry a Node.js that is not Debian's; Debian's npm would conflict with it, so
# the Debian packages are only installed where no npm exists at all.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null 2>&1; then
  want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
