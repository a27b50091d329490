#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test/helm/run.sh: static tests of the Helm chart in charts/plimsoll.
#
#   1. `helm lint --strict` and `helm template` for every certificate mode
#      (generate, cert-manager, secret) with mutations on and off, plus a few
#      variants (Kubernetes 1.20, optional objects on, namespace watch off, ...);
#   2. test/helm/check_rendered.py parses every rendered file and checks what
#      the chart promises (kinds, caBundle, webhook rules and selectors, pod
#      security, probes, PDB apiVersion, ...);
#   3. values that must be refused (typos, wrong types, `latest`, a secret mode
#      without its Secret) must make `helm template` fail.
#
# Prints one line per check, "ok - NAME" or "not ok - NAME", and ends with
# "N passed, N failed"; exits 0 only when nothing failed.
#
# Environment:
#   PLIMSOLL_HELM_OUT   keep the rendered manifests in this directory, one file
#                       per mode (e.g. generate-mutations-on.yaml), for other
#                       tests (plimsoll check, e2e installs). Default: a
#                       temporary directory, removed at the end.
#   HELM                a helm binary to use instead of scripts/get-helm.sh's.
#   PLIMSOLL_HELM_CHART the chart to test (default: charts/plimsoll).
#   PLIMSOLL_HELM_KUBECONFIG  a disposable cluster: also install, upgrade and
#                       uninstall the chart there (see cluster_test below).
#
# Runs on a fresh Debian 12 machine as root: missing tools (unzip, npm,
# python3-yaml, openssl) are installed with apt-get.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
chart="${PLIMSOLL_HELM_CHART:-${root}/charts/plimsoll}"
release=plimsoll
namespace=plimsoll-system

passed=0
failed=0
ok() {
    printf 'ok - %s\n' "$1"
    passed=$((passed + 1))
}
not_ok() {
    printf 'not ok - %s\n' "$1"
    failed=$((failed + 1))
    if [[ -n "${2:-}" ]]; then
        printf '%s\n' "$2" | sed 's/^/#   /' | head -n 20
    fi
}
finish() {
    printf '%d passed, %d failed\n' "${passed}" "${failed}"
    [[ "${failed}" -eq 0 ]]
    exit
}

# apt_install PKG...: install Debian packages (apt-get update first if needed).
apt_install() {
    command -v apt-get >/dev/null 2>&1 || return 1
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null 2>&1
        apt-get install -y -q "$@" >/dev/null 2>&1
    }
}

# ---------------------------------------------------------------- tools
helm="$("${root}/scripts/get-helm.sh")"
if [[ -z "${helm}" || ! -x "${helm}" ]]; then
    not_ok "helm is available (scripts/get-helm.sh)"
    finish
fi
ok "helm is available: $("${helm}" version --short 2>/dev/null)"

python=""
for py in python3 /usr/bin/python3; do
    if command -v "${py}" >/dev/null 2>&1 && "${py}" -c 'import yaml' 2>/dev/null; then
        python="${py}"
        break
    fi
done
if [[ -z "${python}" ]]; then
    apt_install python3 python3-yaml
    /usr/bin/python3 -c 'import yaml' 2>/dev/null && python=/usr/bin/python3
fi
command -v openssl >/dev/null 2>&1 || apt_install openssl
if [[ -z "${python}" ]] || ! command -v openssl >/dev/null 2>&1; then
    not_ok "python3 with PyYAML and openssl are available"
    finish
fi
ok "python3 with PyYAML ($("${python}" -c 'import yaml; print(yaml.__version__)')) and openssl are available"

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
out="${PLIMSOLL_HELM_OUT:-${work}/rendered}"
mkdir -p "${out}"

# A CA and a serving certificate for tls.mode=secret (only the CA is used by
# the chart; the Secret itself would hold tls.crt/tls.key).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test-ca" \
    -keyout "${work}/ca.key" -out "${work}/ca.crt" >/dev/null 2>&1
if [[ ! -s "${work}/ca.crt" ]]; then
    not_ok "openssl makes a test CA"
    finish
fi

# Values per mode, as helm arguments.
mode_args() {
    case "$1" in
    generate) echo "--set tls.mode=generate" ;;
    cert-manager) echo "--set tls.mode=cert-manager" ;;
    secret) echo "--set tls.mode=secret --set tls.secret.name=plimsoll-serving --set-file tls.secret.caBundle=${work}/ca.crt" ;;
    *) return 1 ;;
    esac
}
mutation_args() {
    case "$1" in
    on) echo "" ;; # the default: inject-commit is on
    off) echo "--set config.mutations.inject-commit.enabled=false" ;;
    *) return 1 ;;
    esac
}

# render NAME ARGS...: helm lint --strict and helm template into $out/NAME.yaml.
render() {
    local name="$1"
    shift
    local log
    if log="$("${helm}" lint --strict "${chart}" --namespace "${namespace}" "$@" 2>&1)"; then
        ok "helm lint --strict (${name})"
    else
        not_ok "helm lint --strict (${name})" "${log}"
    fi
    if log="$("${helm}" template "${release}" "${chart}" --namespace "${namespace}" "$@" \
        2>&1 >"${out}/${name}.yaml")"; then
        ok "helm template (${name})"
    else
        not_ok "helm template (${name})" "${log}"
        rm -f "${out}/${name}.yaml"
    fi
}

# ---------------------------------------------------------------- renders
for mode in generate cert-manager secret; do
    for mutations in on off; do
        # shellcheck disable=SC2046 # the argument lists are meant to split
        render "${mode}-mutations-${mutations}" $(mode_args "${mode}") $(mutation_args "${mutations}")
    done
done
# shellcheck disable=SC2046
render secret-base64-cabundle --set tls.mode=secret --set tls.secret.name=plimsoll-serving \
    --set tls.secret.caBundle="$(base64 -w0 "${work}/ca.crt")"
render kube-1.20 --kube-version 1.20.0
render kube-1.21 --kube-version 1.21.0
render optional-on --set metrics.serviceMonitor.enabled=true --set metrics.prometheusRule.enabled=true \
    --set networkPolicy.enabled=true --set networkPolicy.apiServer.cidrs='{10.0.0.1/32}'
render variants --set namespaceWatch.enabled=false --set preStop.action=sleep \
    --set config.mutations.mutate-templates=true --set config.policies.replicas.min=3 \
    --set 'webhook.excludeNamespaces={monitoring}' --set priorityClassName=system-cluster-critical \
    --set image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef \
    --set commit=feature/x-0123abc --set podDisruptionBudget.maxUnavailable=1 \
    --set tls.certManager.issuerRef.name=corp-ca --set tls.certManager.issuerRef.kind=ClusterIssuer \
    --set tls.mode=cert-manager --set webhook.mutating.failurePolicy=Fail
render mutating-forced-on --set config.mutations.inject-commit.enabled=false --set webhook.mutating.enabled=true
render config-changed --set config.policies.replicas.min=5 --set config.policies.image-tag.mode=warn
# shellcheck disable=SC2046
render webhook-url --set webhook.url=https://plimsoll.example.com:8443/hooks/ $(mode_args secret) \
    --set webhook.mutating.enabled=true
render dashboard-on --set grafanaDashboard.enabled=true \
    --set grafanaDashboard.annotations.grafana_folder=Kubernetes
render dashboard-off --set dashboard.enabled=false
render dashboard-reports --set dashboard.reports.enabled=true --set dashboard.reports.installCRD=true

if log="$("${python}" "${here}/values_table.py" "${chart}/values.yaml" "${chart}/README.md" 2>&1)"; then
    ok "README.md documents every value (values table up to date)"
else
    not_ok "README.md documents every value (values table up to date)" "${log}"
fi

# ---------------------------------------------------------------- rendered checks
checks="$("${python}" "${here}/check_rendered.py" --dir "${out}" --release "${release}" \
    --namespace "${namespace}" --ca "${work}/ca.crt" 2>&1)"
printf '%s\n' "${checks}"
passed=$((passed + $(grep -c '^ok - ' <<<"${checks}")))
failed=$((failed + $(grep -c '^not ok - ' <<<"${checks}")))
if ! grep -q '^ok - ' <<<"${checks}"; then
    not_ok "check_rendered.py ran its checks"
fi

# ---------------------------------------------------------------- we ship what we preach
# Every rendered variant passes every plimsoll policy in enforce mode (the
# chart's own Deployment declares its one exemption, automount-token, with a
# reason: the namespace watch needs the token).
plimsoll_bin="${PLIMSOLL_BIN:-${root}/build/cli/plimsoll}"
if [[ -x "${plimsoll_bin}" ]]; then
    all_enforce="${work}/all-enforce.yaml"
    "${plimsoll_bin}" policies --output json | "${python}" -c '
import json, sys
print("policies:")
for p in json.load(sys.stdin):
    if p.get("kind", "policy") == "policy":
        print("  %s: {mode: enforce}" % p["id"])' >"${all_enforce}" ||
        { echo "not ok - cannot write the every-policy-enforced configuration"; exit 1; }
    for f in "${out}"/*.yaml; do
        name="plimsoll check, every policy enforced: $(basename "${f}")"
        if log="$("${plimsoll_bin}" check --config "${all_enforce}" "${f}" 2>&1)" &&
            grep -q ' 0 rejected, 0 admitted with warnings$' <<<"${log}"; then
            ok "${name}"
        else
            not_ok "${name}" "${log}"
        fi
    done
    # The schema's policy part is made from the policy table (scripts/chart-schema.py).
    if log="$("${python}" "${root}/scripts/chart-schema.py" "${plimsoll_bin}" --check 2>&1)"; then
        ok "values.schema.json agrees with plimsoll policies"
    else
        not_ok "values.schema.json agrees with plimsoll policies" "${log}"
    fi
else
    not_ok "plimsoll check over the rendered chart (no binary at ${plimsoll_bin}; set PLIMSOLL_BIN)"
fi

# ---------------------------------------------------------------- refused values
# must_fail NAME PATTERN ARGS...: helm template must fail, saying PATTERN.
must_fail() {
    local name="$1" pattern="$2"
    shift 2
    local log
    if log="$("${helm}" template "${release}" "${chart}" --namespace "${namespace}" "$@" 2>&1)"; then
        not_ok "refused: ${name}" "helm template succeeded"
    elif grep -qiE -- "${pattern}" <<<"${log}"; then
        ok "refused: ${name}"
    else
        not_ok "refused: ${name} (error does not match /${pattern}/)" "${log}"
    fi
}
must_fail "replicaCount=two (wrong type)" "replicaCount" --set replicaCount=two
must_fail "unknown top-level key replicas" "replicas" --set replicas=3
must_fail "unknown nested key image.tags" "tags" --set image.tags=1.0
must_fail "image.tag=latest" "tag" --set image.tag=latest
must_fail "unknown tls.mode" "mode" --set tls.mode=self-signed
must_fail "failurePolicy not Fail/Ignore" "failurePolicy" --set webhook.validating.failurePolicy=fail
must_fail "timeoutSeconds above 30" "timeoutSeconds" --set webhook.timeoutSeconds=31
must_fail "unknown policy id in config" "liveness-prob" --set config.policies.liveness-prob.mode=enforce
must_fail "unknown policy mode in config" "mode" --set config.policies.liveness-probe.mode=block
must_fail "unknown mutation id in config" "inject-commits" --set config.mutations.inject-commits.enabled=true
must_fail "unknown config key" "exclude-namespace" --set 'config.exclude-namespace={a}'
must_fail "tls.mode=secret without tls.secret.name" "name" --set tls.mode=secret
must_fail "tls.mode=secret without caBundle (helm template cannot read the Secret)" "caBundle" \
    --set tls.mode=secret --set tls.secret.name=plimsoll-serving
must_fail "values file with a typo" "resource" -f <(printf 'resource:\n  requests:\n    cpu: 1\n')
must_fail "replicaCount=1 with the PDB on (every drain would block)" "replicaCount 1 with podDisruptionBudget" \
    --set replicaCount=1
# ...while one replica without a PDB (a test cluster) still renders, with no PDB.
if log="$("${helm}" template "${release}" "${chart}" --namespace "${namespace}" --set replicaCount=1 \
    --set podDisruptionBudget.enabled=false 2>&1)" && ! grep -q '^kind: PodDisruptionBudget' <<<"${log}"; then
    ok "replicaCount=1 renders with podDisruptionBudget.enabled=false, without a PDB"
else
    not_ok "replicaCount=1 renders with podDisruptionBudget.enabled=false, without a PDB" "${log}"
fi
must_fail "webhook.url over http" "must be https://" --set webhook.url=http://plimsoll.example.com
must_fail "webhook.url with a query" "must be https://" --set 'webhook.url=https://h.example.com/x?a=b'
must_fail "webhook.url with user info" "must be https://" --set webhook.url=https://u:p@h.example.com

# ---------------------------------------------------------------- optional: a real cluster
# With PLIMSOLL_HELM_KUBECONFIG (a disposable cluster, e.g. shared/k8s/start.sh's),
# install, upgrade and uninstall the chart: the API server accepts every object,
# the PDB apiVersion suits the server, and the generated CA survives an upgrade.
# The webhooks are registered with failurePolicy Ignore and a namespaceSelector
# that matches no namespace, so other users of the cluster are not affected.
cluster_test() {
    local kubectl ns rel log ca1 ca2 crt1 crt2 pdb want
    kubectl="$(dirname "${helm}")/kubectl"
    command -v "${kubectl}" >/dev/null 2>&1 || kubectl=kubectl
    export KUBECONFIG="${PLIMSOLL_HELM_KUBECONFIG}"
    ns="plimsoll-helm-test-$$"
    rel="plimsoll-t$$"
    local args=(--namespace "${ns}" --set webhook.validating.failurePolicy=Ignore
        --set "webhook.namespaceSelectorExpressions[0].key=plimsoll.dev/helm-test"
        --set "webhook.namespaceSelectorExpressions[0].operator=In"
        --set "webhook.namespaceSelectorExpressions[0].values[0]=${ns}")
    if ! log="$("${kubectl}" create namespace "${ns}" 2>&1)"; then
        not_ok "cluster: create namespace ${ns}" "${log}"
        return
    fi
    "${kubectl}" label namespace "${ns}" plimsoll.dev/skip=true >/dev/null 2>&1
    if log="$("${helm}" install "${rel}" "${chart}" "${args[@]}" 2>&1)"; then
        ok "cluster: helm install (generate mode)"
        ca1="$("${kubectl}" get validatingwebhookconfiguration "${rel}" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
        crt1="$("${kubectl}" -n "${ns}" get secret "${rel}-tls" -o jsonpath='{.data.tls\.crt}')"
        if log="$("${helm}" upgrade "${rel}" "${chart}" "${args[@]}" --set logLevel=debug 2>&1)"; then
            ok "cluster: helm upgrade"
        else
            not_ok "cluster: helm upgrade" "${log}"
        fi
        ca2="$("${kubectl}" get validatingwebhookconfiguration "${rel}" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
        crt2="$("${kubectl}" -n "${ns}" get secret "${rel}-tls" -o jsonpath='{.data.tls\.crt}')"
        if [[ -n "${ca1}" && "${ca1}" == "${ca2}" && -n "${crt1}" && "${crt1}" == "${crt2}" ]]; then
            ok "cluster: caBundle and certificate unchanged by the upgrade (lookup)"
        else
            not_ok "cluster: caBundle and certificate unchanged by the upgrade (lookup)"
        fi
        # The upgrade that renews the certificate trusts the new CA and the old one (pods
        # serve the old certificate until the kubelet updates their volume); the next
        # upgrade trusts the new CA alone.
        if log="$("${helm}" upgrade "${rel}" "${chart}" "${args[@]}" --set tls.generate.renewBeforeDays=36500 2>&1)"; then
            local ca3 crt3 sca3 ca4 sca4 verdict
            ca3="$("${kubectl}" get validatingwebhookconfiguration "${rel}" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
            sca3="$("${kubectl}" -n "${ns}" get secret "${rel}-tls" -o jsonpath='{.data.ca\.crt}')"
            crt3="$("${kubectl}" -n "${ns}" get secret "${rel}-tls" -o jsonpath='{.data.tls\.crt}')"
            verdict="$(printf '%s\n%s\n%s\n%s\n' "${ca1}" "${ca3}" "${sca3}" "${crt3}" | "${python}" -c '
import base64, sys
old, bundle, new, crt = [base64.b64decode(x).decode() for x in sys.stdin.read().split()]
certs = ["-----BEGIN" + c for c in bundle.split("-----BEGIN")[1:]]
ok = len(certs) == 2 and certs[0].strip() == new.strip() and certs[1].strip() == old.strip() and new != old
print("ok" if ok else "bundle has %d certificates; new first: %s; old second: %s" % (
    len(certs), certs and certs[0].strip() == new.strip(), len(certs) > 1 and certs[1].strip() == old.strip()))')"
            if [[ "${verdict}" == ok && "${crt3}" != "${crt1}" ]]; then
                ok "cluster: the renewing upgrade trusts the new CA and the old one (new certificate)"
            else
                not_ok "cluster: the renewing upgrade trusts the new CA and the old one (new certificate)" "${verdict}"
            fi
            "${helm}" upgrade "${rel}" "${chart}" "${args[@]}" >/dev/null 2>&1
            ca4="$("${kubectl}" get validatingwebhookconfiguration "${rel}" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
            sca4="$("${kubectl}" -n "${ns}" get secret "${rel}-tls" -o jsonpath='{.data.ca\.crt}')"
            if [[ -n "${ca4}" && "${ca4}" == "${sca4}" && "${sca4}" == "${sca3}" ]]; then
                ok "cluster: the next upgrade trusts the new CA alone"
            else
                not_ok "cluster: the next upgrade trusts the new CA alone"
            fi
        else
            not_ok "cluster: helm upgrade renewing the certificate" "${log}"
        fi
        pdb="$("${kubectl}" -n "${ns}" get pdb "${rel}" -o jsonpath='{.metadata.managedFields[0].apiVersion}' 2>&1)"
        want=policy/v1beta1
        "${kubectl}" api-versions 2>/dev/null | grep -qx policy/v1 && want=policy/v1
        if [[ "${pdb}" == "${want}" ]]; then
            ok "cluster: PDB created as ${want}"
        else
            not_ok "cluster: PDB created as ${want}" "${pdb}"
        fi
        if log="$("${helm}" uninstall "${rel}" --namespace "${ns}" 2>&1)"; then
            ok "cluster: helm uninstall"
        else
            not_ok "cluster: helm uninstall" "${log}"
        fi
    else
        not_ok "cluster: helm install (generate mode)" "${log}"
    fi
    "${kubectl}" delete namespace "${ns}" --wait=false >/dev/null 2>&1
}
if [[ -n "${PLIMSOLL_HELM_KUBECONFIG:-}" ]]; then
    cluster_test
else
    echo "# cluster checks skipped: set PLIMSOLL_HELM_KUBECONFIG to a disposable cluster to run them"
fi

finish
