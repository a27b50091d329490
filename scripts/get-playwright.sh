#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# get-playwright.sh: install playwright-core (the browser driver library only,
# no browser download: it drives Debian's chromium) from the npm registry,
# idempotently, into the tools cache, and print the node_modules directory to
# put in NODE_PATH. The dashboard's page test (test/e2e/page_check.js) uses it.
#   PLIMSOLL_TOOLS_DIR        cache (default ~/.cache/plimsoll-tools)
#   PLIMSOLL_PLAYWRIGHT_PKG   npm package spec (default playwright-core@1.65.2)
# Progress goes to stderr; only the directory goes to stdout.
set -euo pipefail

tools="${PLIMSOLL_TOOLS_DIR:-${HOME:-/root}/.cache/plimsoll-tools}"
pkg="${PLIMSOLL_PLAYWRIGHT_PKG:-playwright-core@1.65.2}"
dir="${tools}/npm-playwright"
mods="${dir}/node_modules"

log() { printf 'get-playwright: %s\n' "$*" >&2; }

if [[ -f "${mods}/playwright-core/package.json" ]]; then
    printf '%s\n' "${mods}"
    exit 0
fi
command -v npm >/dev/null 2>&1 || { log "npm not found (scripts/install-deps.sh --test)"; exit 1; }
mkdir -p "${dir}"
log "installing ${pkg} from the npm registry into ${dir}"
# --ignore-scripts: nothing runs at install time, and no browser is downloaded.
(cd "${dir}" && npm install --no-save --no-audit --no-fund --ignore-scripts \
    --prefix "${dir}" "${pkg}" >&2 2>&1)
if [[ ! -f "${mods}/playwright-core/package.json" ]]; then
    log "playwright-core not found after npm install"
    exit 1
fi
printf '%s\n' "${mods}"
