#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quick start: install what is missing, build, generate development
# certificates, and run plimsoll serve on loopback with the built-in default
# policies. Prints a ready-to-paste command that sends an example
# AdmissionReview and shows the rejection. Ctrl-C stops the server.
#
# Environment: PLIMSOLL_PORT (default 8443), PLIMSOLL_HEALTH_PORT (8080).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
[ -d build ] || meson setup build --buildtype=release -Dtests=disabled >/dev/null
ninja -C build >/dev/null

certs=.dev/certs
if [ ! -s "$certs/tls.crt" ]; then
  build/cli/plimsoll certs generate --service plimsoll --namespace default \
    --out "$certs" --dns localhost --dns 127.0.0.1 >/dev/null
fi

port=${PLIMSOLL_PORT:-8443}
health=${PLIMSOLL_HEALTH_PORT:-8080}
cat <<MSG

plimsoll is starting on https://localhost:$port (health on http://127.0.0.1:$health).
In another terminal, send it an example Deployment that is not production-ready:

  curl -s --cacert $PWD/$certs/ca.crt https://localhost:$port/validate \\
    -H 'Content-Type: application/json' --data-binary @$PWD/examples/review-deployment.json \\
    | jq -r '.response.status.message'

or check manifests offline, exactly as admission would:

  $PWD/build/cli/plimsoll check $PWD/examples/deployment-bad.yaml

Ctrl-C stops the server. Logs (one JSON object per line) follow.

MSG
exec build/cli/plimsoll serve --listen "127.0.0.1:$port" --health-listen "127.0.0.1:$health" \
  --tls-cert "$certs/tls.crt" --tls-key "$certs/tls.key" --drain-seconds 0
