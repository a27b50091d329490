#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks the manifests that test/helm/run.sh rendered from charts/plimsoll.

Each file in --dir is one `helm template` run (see run.sh for the values).
Prints "ok - NAME" or "not ok - NAME" per check; run.sh counts them. Needs
PyYAML and the openssl command (to check the generated certificates).
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile

import yaml

RESULTS = []

# Workload kinds of SPEC §4, by API group, as webhook rules must list them.
WORKLOAD_RESOURCES = {
    "": {"pods", "replicationcontrollers"},
    "apps": {"deployments", "statefulsets", "daemonsets", "replicasets"},
    "batch": {"jobs", "cronjobs"},
}


def check(name, cond, detail=""):
    """Records and prints one check."""
    RESULTS.append(bool(cond))
    print(("ok - " if cond else "not ok - ") + name)
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("#   " + line)
    return bool(cond)


def is_dashboard(doc):
    labels = (doc.get("metadata") or {}).get("labels") or {}
    return labels.get("app.kubernetes.io/component") == "dashboard"


class Render:
    """One rendered file: its objects by kind."""

    def __init__(self, path):
        self.name = os.path.basename(path)[: -len(".yaml")]
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        # The dashboard's objects (component dashboard) are checked apart, by
        # check_dashboard; every other check is about the webhook's.
        self.dashboard = [d for d in docs if is_dashboard(d)]
        self.docs = [d for d in docs if not is_dashboard(d)]

    def all(self, kind):
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind):
        objs = self.all(kind)
        return objs[0] if len(objs) == 1 else None

    def kinds(self):
        return sorted({d.get("kind") for d in self.docs})


def pod_spec(render):
    dep = render.one("Deployment")
    return dep["spec"]["template"]["spec"] if dep else {}


def container(render):
    spec = pod_spec(render)
    cs = spec.get("containers", [])
    return cs[0] if len(cs) == 1 else {}


def webhooks(render):
    """(kind, webhook) for every webhook of both configurations."""
    out = []
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for cfg in render.all(kind):
            for wh in cfg.get("webhooks", []):
                out.append((kind, cfg, wh))
    return out


def covered(rules):
    """Set of (group, resource) covered by rules for both CREATE and UPDATE."""
    got = set()
    for r in rules:
        ops = set(r.get("operations", []))
        if not ({"CREATE", "UPDATE"} <= ops or "*" in ops):
            continue
        if not r.get("apiVersions"):
            continue
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                got.add((g, res))
    return got


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)


# ------------------------------------------------------------------ common checks


def check_common(r, ns, release):
    """What every render must satisfy: HA, pod security, probes, config, RBAC."""
    p = r.name + ": "
    dep = r.one("Deployment")
    if not check(p + "one Deployment", dep, r.kinds()):
        return
    for kind in ("Service", "ServiceAccount", "ConfigMap", "ValidatingWebhookConfiguration"):
        check(p + "has one " + kind, r.one(kind), r.kinds())
    cluster_scoped = ("ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
                      "MutatingWebhookConfiguration")
    stray = ["%s/%s" % (d["kind"], d["metadata"]["name"]) for d in r.docs
             if d["kind"] not in cluster_scoped and d["metadata"].get("namespace") != ns]
    check(p + "every namespaced object is in the release namespace", not stray, stray)
    check(p + "no object has an empty name", all(d["metadata"].get("name") for d in r.docs))
    check(p + "every object carries app.kubernetes.io/instance=<release>",
          all(d["metadata"].get("labels", {}).get("app.kubernetes.io/instance") == release for d in r.docs))

    spec = dep["spec"]
    tmpl = spec["template"]
    ps = tmpl["spec"]
    c = container(r)
    check(p + "replicas is 2", spec.get("replicas") == 2, spec.get("replicas"))
    check(p + "rolling update keeps every replica (maxUnavailable 0)",
          spec.get("strategy", {}).get("rollingUpdate", {}).get("maxUnavailable") == 0)
    check(p + "selector labels are on the pod template",
          all(tmpl["metadata"]["labels"].get(k) == v for k, v in spec["selector"]["matchLabels"].items()))
    aff = ps.get("affinity", {}).get("podAntiAffinity")
    tsc = ps.get("topologySpreadConstraints", [])
    check(p + "pod anti-affinity on kubernetes.io/hostname", aff and "kubernetes.io/hostname" in str(aff), aff)
    check(p + "topology spread across zones",
          any(t.get("topologyKey") == "topology.kubernetes.io/zone" for t in tsc), tsc)

    # Pod security: restricted profile.
    psc = ps.get("securityContext", {})
    csc = c.get("securityContext", {})
    check(p + "pod runAsNonRoot and a non-root uid",
          psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, psc)
    check(p + "seccompProfile RuntimeDefault", psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", psc)
    check(p + "container: no privilege escalation, not privileged",
          csc.get("allowPrivilegeEscalation") is False and not csc.get("privileged"), csc)
    check(p + "container: read-only root filesystem", csc.get("readOnlyRootFilesystem") is True, csc)
    check(p + "container: all capabilities dropped, none added",
          csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("capabilities", {}).get("add"), csc)
    check(p + "no host namespaces or hostPath",
          not any(ps.get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
          and not any("hostPath" in v for v in ps.get("volumes", [])))

    # plimsoll's own policies.
    live = c.get("livenessProbe", {}).get("httpGet", {})
    ready = c.get("readinessProbe", {}).get("httpGet", {})
    check(p + "livenessProbe GET /healthz on the health port", live.get("path") == "/healthz"
          and live.get("port") == "health", live)
    check(p + "readinessProbe GET /readyz on the health port", ready.get("path") == "/readyz"
          and ready.get("port") == "health", ready)
    check(p + "liveness and readiness probes differ", c.get("livenessProbe") != c.get("readinessProbe"))
    res = c.get("resources", {})
    check(p + "requests.cpu, requests.memory and limits.memory set",
          res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory")
          and res.get("limits", {}).get("memory"), res)
    check(p + "terminationGracePeriodSeconds >= 5", ps.get("terminationGracePeriodSeconds", 30) >= 5)
    check(p + "preStop hook on the container", c.get("lifecycle", {}).get("preStop"), c.get("lifecycle"))
    labels = tmpl["metadata"].get("labels", {})
    check(p + "pod labels app.kubernetes.io/name and plimsoll.dev/commit",
          labels.get("app.kubernetes.io/name") and labels.get("plimsoll.dev/commit"), labels)
    image = c.get("image", "")
    tag = image.split("@")[0].rsplit(":", 1)[-1] if ":" in image.split("@")[0].rsplit("/", 1)[-1] else ""
    check(p + "image has a tag that is not latest", tag and tag != "latest", image)
    ports = {pt["name"]: pt["containerPort"] for pt in c.get("ports", [])}
    check(p + "container ports webhook 8443 and health 8080",
          ports.get("webhook") == 8443 and ports.get("health") == 8080, ports)

    # Invocation: plimsoll serve with the mounted files.
    args = c.get("args", [])
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    check(p + "args start with serve", args[:1] == ["serve"], args)

    def flag(name):
        return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None

    cfg_mount = mounts.get("config", {})
    tls_mount = mounts.get("tls", {})
    check(p + "--config is config.yaml inside the config volume mount",
          flag("--config") == cfg_mount.get("mountPath", "?") + "/config.yaml", (flag("--config"), cfg_mount))
    check(p + "--tls-cert/--tls-key inside the tls volume mount",
          flag("--tls-cert") == tls_mount.get("mountPath", "?") + "/tls.crt"
          and flag("--tls-key") == tls_mount.get("mountPath", "?") + "/tls.key")
    check(p + "--listen on 0.0.0.0:8443 and --health-listen on 0.0.0.0:8080",
          flag("--listen") == "0.0.0.0:8443" and flag("--health-listen") == "0.0.0.0:8080", args)
    env = {e["name"]: e for e in c.get("env", [])}
    check(p + "POD_NAMESPACE from the downward API",
          env.get("POD_NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
          == "metadata.namespace", env.get("POD_NAMESPACE"))

    # ConfigMap consumed as a directory, never subPath, never env.
    check(p + "no volumeMount uses subPath",
          not any("subPath" in m or "subPathExpr" in m for m in c.get("volumeMounts", [])))
    check(p + "no ConfigMap consumed through env/envFrom",
          "configMapKeyRef" not in str(c.get("env")) and not c.get("envFrom"))
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    cm = r.one("ConfigMap")
    check(p + "config volume is the chart's ConfigMap",
          cm and vols.get("config", {}).get("configMap", {}).get("name") == cm["metadata"]["name"])
    check(p + "config volume has no items (the whole directory is mounted)",
          "items" not in vols.get("config", {}).get("configMap", {}))
    cfg = yaml.safe_load(cm["data"]["config.yaml"]) if cm and "config.yaml" in cm.get("data", {}) else None
    check(p + "ConfigMap key config.yaml is a YAML mapping", isinstance(cfg, dict), cm and cm.get("data"))
    check(p + "no checksum annotation restarts pods on config change",
          not any("checksum" in k for k in tmpl["metadata"].get("annotations", {})))

    # Service: the webhook port reaches the container's webhook port.
    svc = r.one("Service")
    if svc:
        sp = {pt["name"]: pt for pt in svc["spec"]["ports"]}
        check(p + "Service port https 443 -> webhook",
              sp.get("https", {}).get("port") == 443 and sp.get("https", {}).get("targetPort") == "webhook", sp)
        check(p + "Service selects the pods",
              svc["spec"]["selector"] == spec["selector"]["matchLabels"], svc["spec"]["selector"])
        check(p + "Service named like the webhook clientConfig",
              all(wh["clientConfig"]["service"]["name"] == svc["metadata"]["name"]
                  and wh["clientConfig"]["service"]["namespace"] == ns
                  and wh["clientConfig"]["service"]["port"] == sp.get("https", {}).get("port")
                  for _, _, wh in webhooks(r)))

    # PDB.
    pdb = r.one("PodDisruptionBudget")
    if check(p + "PodDisruptionBudget present", pdb, r.kinds()):
        check(p + "PDB selects the pods", pdb["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"])
        check(p + "PDB allows a disruption with 2 replicas",
              pdb["spec"].get("minAvailable") == 1 or pdb["spec"].get("maxUnavailable") == 1, pdb["spec"])

    check_webhooks(r, ns)
    for kind in ("ServiceMonitor", "PrometheusRule", "NetworkPolicy"):
        if r.name != "optional-on":
            check(p + kind + " off by default", not r.all(kind))


def check_rbac(r, ns, watch):
    p = r.name + ": "
    role = r.one("ClusterRole")
    binding = r.one("ClusterRoleBinding")
    sa = r.one("ServiceAccount")
    ps = pod_spec(r)
    ann = r.one("Deployment")["spec"]["template"]["metadata"].get("annotations", {})
    check(p + "ServiceAccount does not automount its token", sa and sa.get("automountServiceAccountToken") is False)
    check(p + "pods use the chart's ServiceAccount", sa and ps.get("serviceAccountName") == sa["metadata"]["name"])
    if not watch:
        check(p + "namespace watch off: no ClusterRole/Binding", not role and not binding, r.kinds())
        check(p + "namespace watch off: token not mounted", ps.get("automountServiceAccountToken") is False)
        check(p + "namespace watch off: no automount-token exemption",
              "automount-token" not in ann.get("plimsoll.dev/exempt", "").split(","), ann)
        return
    if check(p + "one ClusterRole", role, r.kinds()):
        rules = role.get("rules", [])
        check(p + "ClusterRole is exactly get/list/watch on namespaces",
              len(rules) == 1 and rules[0].get("apiGroups") == [""] and rules[0].get("resources") == ["namespaces"]
              and sorted(rules[0].get("verbs", [])) == ["get", "list", "watch"]
              and not rules[0].get("resourceNames") and not rules[0].get("nonResourceURLs"), rules)
    if check(p + "one ClusterRoleBinding", binding, r.kinds()):
        check(p + "ClusterRoleBinding binds that role to the ServiceAccount",
              binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": role["metadata"]["name"]}
              and binding["subjects"] == [{"kind": "ServiceAccount", "name": sa["metadata"]["name"],
                                           "namespace": ns}], binding)
    check(p + "pod mounts the token for the namespace watch", ps.get("automountServiceAccountToken") is True)
    check(p + "pod carries the automount-token exemption with a reason",
          "automount-token" in ann.get("plimsoll.dev/exempt", "").split(",")
          and ann.get("plimsoll.dev/exempt-reason", "").strip(), ann)


def dashboard_rules():
    """The (apiGroups, resources) the dashboard reads, from the tables it reads them from
    (audit/workloads.c: pl_audit_kinds and pl_audit_neighbour_kinds), and namespaces."""
    import re
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "audit",
                            "workloads.c")).read()
    groups = {"": {"namespaces"}}
    for version, plural in re.findall(r'\{"[A-Za-z]+", "([^"]+)", (?:"[^"]+"|NULL), "([a-z]+)"\}',
                                      src):
        groups.setdefault(version.rpartition("/")[0], set()).add(plural)
    return [([g], sorted(res)) for g, res in groups.items()]


DASHBOARD_RULES = dashboard_rules()


def check_dashboard(r, ns, enabled):
    """The dashboard: its own Deployment (one replica, restricted, probes, resources),
    ClusterIP Service, ServiceAccount and read-only RBAC on exactly the kinds it reads."""
    p = r.name + ": dashboard: "
    by_kind = {}
    for d in r.dashboard:
        by_kind.setdefault(d["kind"], []).append(d)
    if not enabled:
        check(p + "disabled: no dashboard object", not r.dashboard, sorted(by_kind))
        return
    for kind in ("Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        check(p + "one " + kind, len(by_kind.get(kind, [])) == 1, sorted(by_kind))
    if len(by_kind.get("Deployment", [])) != 1:
        return
    dep = by_kind["Deployment"][0]
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    check(p + "one replica", dep["spec"]["replicas"] == 1)
    check(p + "runs plimsoll dashboard on its port", c["args"][:3] == ["dashboard", "--listen", "0.0.0.0:8080"], c["args"])
    check(p + "probes /healthz and /readyz", c["livenessProbe"]["httpGet"]["path"] == "/healthz"
          and c["readinessProbe"]["httpGet"]["path"] == "/readyz")
    check(p + "restricted securityContext", c["securityContext"].get("allowPrivilegeEscalation") is False
          and c["securityContext"]["capabilities"]["drop"] == ["ALL"]
          and spec["securityContext"].get("runAsNonRoot") is True)
    check(p + "resources set", {"cpu", "memory"} <= set(c["resources"]["requests"]) and "memory" in c["resources"]["limits"])
    sa = by_kind["ServiceAccount"][0]
    check(p + "its own ServiceAccount, not the webhook's", spec["serviceAccountName"] == sa["metadata"]["name"]
          and all(spec["serviceAccountName"] != d["metadata"]["name"] for d in r.all("ServiceAccount")))
    svc = by_kind["Service"][0]
    check(p + "ClusterIP Service selecting the dashboard pods only", svc["spec"]["type"] == "ClusterIP"
          and svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
          and svc["spec"]["selector"].get("app.kubernetes.io/component") == "dashboard")
    webhook_svc = r.one("Service")
    check(p + "the webhook Service does not select the dashboard", webhook_svc and
          webhook_svc["spec"]["selector"].get("app.kubernetes.io/component") == "webhook")
    rules = sorted((sorted(x["apiGroups"]), sorted(x["resources"]), sorted(x["verbs"]))
                   for x in by_kind["ClusterRole"][0]["rules"])
    want = sorted((g, sorted(res), ["get", "list", "watch"]) for g, res in DASHBOARD_RULES)
    check(p + "ClusterRole is exactly get/list/watch on the kinds it reads", rules == want, rules)
    binding = by_kind["ClusterRoleBinding"][0]
    check(p + "binding names its ServiceAccount", binding["subjects"] == [
        {"kind": "ServiceAccount", "name": sa["metadata"]["name"], "namespace": ns}])
    check(p + "every dashboard object in the release namespace or cluster-scoped",
          all(d["kind"] in ("ClusterRole", "ClusterRoleBinding") or d["metadata"].get("namespace") == ns
              for d in r.dashboard))


def check_webhooks(r, ns):
    p = r.name + ": "
    for kind, cfg, wh in webhooks(r):
        short = "validating" if kind.startswith("Validating") else "mutating"
        q = p + short + " webhook: "
        check(q + "admissionReviewVersions [v1, v1beta1]", wh.get("admissionReviewVersions") == ["v1", "v1beta1"])
        check(q + "sideEffects None", wh.get("sideEffects") == "None")
        check(q + "timeoutSeconds 5", wh.get("timeoutSeconds") == 5, wh.get("timeoutSeconds"))
        check(q + "matchPolicy Equivalent", wh.get("matchPolicy") == "Equivalent")
        check(q + "name is qualified", wh.get("name", "").count(".") >= 2, wh.get("name"))
        path = wh["clientConfig"]["service"].get("path")
        check(q + "path", path == ("/validate" if short == "validating" else "/mutate"), path)
        if short == "mutating":
            check(q + "reinvocationPolicy IfNeeded", wh.get("reinvocationPolicy") == "IfNeeded")
        else:
            check(q + "failurePolicy Fail by default", wh.get("failurePolicy") == "Fail")
        exprs = wh.get("namespaceSelector", {}).get("matchExpressions", [])
        names = [e for e in exprs if e.get("key") == "kubernetes.io/metadata.name" and e.get("operator") == "NotIn"]
        excluded = set(names[0].get("values", [])) if len(names) == 1 else set()
        check(q + "namespaceSelector excludes the release namespace and kube-system",
              {ns, "kube-system"} <= excluded, exprs)
        check(q + "namespaceSelector skips namespaces labelled plimsoll.dev/skip",
              {"key": "plimsoll.dev/skip", "operator": "DoesNotExist"} in exprs, exprs)
        check(q + "namespaceSelector has no matchLabels (they would include namespaces)",
              not wh.get("namespaceSelector", {}).get("matchLabels"))
        got = covered(wh.get("rules", []))
        want = {(g, res) for g, rs in WORKLOAD_RESOURCES.items() for res in rs}
        if short == "validating":
            check(q + "rules cover pods and every workload kind on CREATE and UPDATE", want <= got,
                  sorted(want - got))
        else:
            check(q + "rules cover pods on CREATE and UPDATE", ("", "pods") in got, sorted(got))
        check(q + "rules match every API version (batch/v1beta1 CronJobs on 1.20)",
              all(rule.get("apiVersions") == ["*"] for rule in wh.get("rules", [])))


# ------------------------------------------------------------------ per mode


def check_mode(r, mode, mutations, ns, ca_path):
    p = r.name + ": "
    mwc = r.all("MutatingWebhookConfiguration")
    if mutations:
        check(p + "MutatingWebhookConfiguration present with mutations on", len(mwc) == 1, r.kinds())
        for _, _, wh in webhooks(r):
            if wh["clientConfig"]["service"].get("path") == "/mutate":
                check(p + "mutating webhook: failurePolicy Ignore by default", wh.get("failurePolicy") == "Ignore")
                check(p + "mutating webhook: Pods only while mutate-templates is false",
                      covered(wh["rules"]) == {("", "pods")}, wh["rules"])
    else:
        check(p + "no MutatingWebhookConfiguration with mutations off", not mwc, r.kinds())

    tls_secret = pod_spec(r)["volumes"]
    tls_secret = [v["secret"]["secretName"] for v in tls_secret if v["name"] == "tls"]
    tls_secret = tls_secret[0] if tls_secret else None
    bundles = [wh["clientConfig"].get("caBundle") for _, _, wh in webhooks(r)]
    cfgs = r.all("ValidatingWebhookConfiguration") + mwc
    secrets = r.all("Secret")

    if mode == "generate":
        sec = [s for s in secrets if s["metadata"]["name"] == tls_secret]
        if not check(p + "generated Secret is the one the pods mount", len(sec) == 1, [s["metadata"]["name"]
                                                                                      for s in secrets]):
            return
        data = sec[0]["data"]
        check(p + "generated Secret is kubernetes.io/tls with ca.crt, tls.crt, tls.key",
              sec[0].get("type") == "kubernetes.io/tls" and all(data.get(k) for k in ("ca.crt", "tls.crt", "tls.key")))
        check(p + "caBundle non-empty in every webhook", bundles and all(bundles), bundles)
        check(p + "caBundle is the Secret's ca.crt", all(b == data.get("ca.crt") for b in bundles))
        check(p + "Secret records the expiry (plimsoll.dev/not-after)",
              sec[0]["metadata"].get("annotations", {}).get("plimsoll.dev/not-after"))
        ca = base64.b64decode(bundles[0] or "")
        crt = base64.b64decode(data.get("tls.crt", ""))
        key = base64.b64decode(data.get("tls.key", ""))
        check(p + "caBundle decodes to a PEM certificate", ca.startswith(b"-----BEGIN CERTIFICATE-----"))
        with tempfile.TemporaryDirectory() as tmp:
            ca_file = os.path.join(tmp, "ca.crt")
            crt_file = os.path.join(tmp, "tls.crt")
            with open(ca_file, "wb") as f:
                f.write(ca)
            with open(crt_file, "wb") as f:
                f.write(crt)
            v = openssl("verify", "-CAfile", ca_file, crt_file)
            check(p + "tls.crt verifies against the caBundle (openssl verify)", v.returncode == 0,
                  v.stdout + v.stderr)
            svc = r.one("Service")["metadata"]["name"]
            san = openssl("x509", "-in", crt_file, "-noout", "-ext", "subjectAltName").stdout.decode()
            check(p + "tls.crt has SAN DNS:<service>.<namespace>.svc",
                  "DNS:%s.%s.svc" % (svc, ns) in san.replace(" ", "").split(","), san)
            pub_crt = openssl("x509", "-in", crt_file, "-noout", "-pubkey").stdout
            pub_key = openssl("pkey", "-pubout", data=key).stdout
            check(p + "tls.key matches tls.crt", pub_crt and pub_crt == pub_key)
            eku = openssl("x509", "-in", crt_file, "-noout", "-ext", "extendedKeyUsage").stdout.decode()
            check(p + "tls.crt is usable for TLS server authentication", "Server Authentication" in eku, eku)
        check(p + "no cert-manager objects", not r.all("Certificate") and not r.all("Issuer"))
    elif mode == "cert-manager":
        certs = {c["metadata"]["name"]: c for c in r.all("Certificate")}
        serving = [c for c in certs.values() if c["spec"].get("secretName") == tls_secret]
        if not check(p + "a Certificate writes the Secret the pods mount", len(serving) == 1, list(certs)):
            return
        cert = serving[0]
        want = "%s/%s" % (ns, cert["metadata"]["name"])
        check(p + "every webhook configuration carries cert-manager.io/inject-ca-from",
              all(c["metadata"].get("annotations", {}).get("cert-manager.io/inject-ca-from") == want for c in cfgs),
              [c["metadata"].get("annotations") for c in cfgs])
        check(p + "no static caBundle (cainjector owns it)", not any(bundles), bundles)
        svc = r.one("Service")["metadata"]["name"]
        check(p + "Certificate dnsNames include <service>.<namespace>.svc",
              "%s.%s.svc" % (svc, ns) in cert["spec"].get("dnsNames", []), cert["spec"].get("dnsNames"))
        ref = cert["spec"].get("issuerRef", {})
        issuers = {i["metadata"]["name"]: i for i in r.all("Issuer")}
        check(p + "Certificate's Issuer is rendered and is a CA issuer",
              ref.get("kind") == "Issuer" and "ca" in issuers.get(ref.get("name"), {}).get("spec", {}), ref)
        check(p + "no chart-generated Secret", not secrets, [s["metadata"]["name"] for s in secrets])
    elif mode == "secret":
        check(p + "pods mount the existing Secret", tls_secret == "plimsoll-serving", tls_secret)
        with open(ca_path, "rb") as f:
            want = base64.b64encode(f.read().strip()).decode()
        got_ok = all(b and base64.b64decode(b).strip() == base64.b64decode(want) for b in bundles)
        check(p + "caBundle is the given CA in every webhook", bundles and got_ok, bundles)
        check(p + "no Secret, Certificate or Issuer rendered", not secrets and not r.all("Certificate")
              and not r.all("Issuer"), r.kinds())


# ------------------------------------------------------------------ variants


def check_variants(renders, ns, release):
    def get(name):
        return renders.get(name)

    r = get("kube-1.20")
    if check("kube-1.20: rendered", r):
        pdb = r.one("PodDisruptionBudget")
        check("kube-1.20: PDB apiVersion policy/v1beta1", pdb and pdb["apiVersion"] == "policy/v1beta1",
              pdb and pdb["apiVersion"])
    r = get("kube-1.21")
    if check("kube-1.21: rendered", r):
        pdb = r.one("PodDisruptionBudget")
        check("kube-1.21: PDB apiVersion policy/v1", pdb and pdb["apiVersion"] == "policy/v1")
    r = get("generate-mutations-on")
    if r:
        pdb = r.one("PodDisruptionBudget")
        check("default capabilities: PDB apiVersion policy/v1", pdb and pdb["apiVersion"] == "policy/v1")
        check("default: Deployment named like the release (release name contains the chart name)",
              r.one("Deployment")["metadata"]["name"] == release)
        cfg = yaml.safe_load(r.one("ConfigMap")["data"]["config.yaml"])
        check("default: config keeps inject-commit on and mutate-templates off",
              cfg.get("mutations", {}).get("inject-commit", {}).get("enabled") is True
              and cfg.get("mutations", {}).get("mutate-templates") is False, cfg)
        check("default: webhooks exclude kube-public and kube-node-lease too",
              all({"kube-public", "kube-node-lease"} <= set(wh["namespaceSelector"]["matchExpressions"][0]["values"])
                  for _, _, wh in webhooks(r)))
        c = container(r)
        check("default: preStop is an httpGet (the image has no shell)",
              c["lifecycle"]["preStop"].get("httpGet", {}).get("port") == "health", c["lifecycle"])
        dep = r.one("Deployment")["spec"]["template"]
        check("default: commit label defaults to the image tag",
              dep["metadata"]["labels"]["plimsoll.dev/commit"] == c["image"].rsplit(":", 1)[1])
        check("default: no priorityClassName", "priorityClassName" not in dep["spec"])
        check("default: priority-class exempted with a reason (no class chosen)",
              "priority-class" in dep["metadata"]["annotations"].get("plimsoll.dev/exempt", "").split(",")
              and "PriorityClass" in dep["metadata"]["annotations"].get("plimsoll.dev/exempt-reason", ""))

    r = get("secret-base64-cabundle")
    other = get("secret-mutations-on")
    if check("secret-base64-cabundle: rendered", r and other):
        a = [wh["clientConfig"].get("caBundle") for _, _, wh in webhooks(r)]
        b = [wh["clientConfig"].get("caBundle") for _, _, wh in webhooks(other)]
        check("secret-base64-cabundle: base64 and PEM caBundle give the same caBundle", a and a == b, (a, b))

    r = get("optional-on")
    if check("optional-on: rendered", r):
        sm = r.one("ServiceMonitor")
        if check("optional-on: ServiceMonitor", sm, r.kinds()):
            ep = sm["spec"]["endpoints"][0]
            svc_ports = [pt["name"] for pt in r.one("Service")["spec"]["ports"]]
            check("optional-on: ServiceMonitor scrapes /metrics on a Service port",
                  ep.get("path") == "/metrics" and ep.get("port") in svc_ports, ep)
            check("optional-on: ServiceMonitor selects the Service",
                  sm["spec"]["selector"]["matchLabels"].items() <= r.one("Service")["metadata"]["labels"].items())
        pr = r.one("PrometheusRule")
        if check("optional-on: PrometheusRule", pr, r.kinds()):
            rules = [x for g in pr["spec"]["groups"] for x in g["rules"]]
            alerts = {x.get("alert"): x for x in rules}
            for a, what in (("PlimsollWebhookErrors", "errors"), ("PlimsollWebhookSlow", "latency"),
                            ("PlimsollWebhookLatencyNearTimeout", "latency near the timeout"),
                            ("PlimsollCertificateExpiresSoon", "certificate expiry"),
                            ("PlimsollCertificateReloadFailed", "certificate reloads"),
                            ("PlimsollConfigReloadFailed", "config reloads"),
                            ("PlimsollNamespaceViewStale", "stale namespace view"),
                            ("PlimsollTLSHandshakeFailures", "handshake failures")):
                check("optional-on: alert on %s (%s)" % (what, a), a in alerts and alerts[a].get("expr"))
            check("optional-on: alert expressions carry no unrendered template",
                  not any("{{" in str(x.get("expr")) for x in rules))
        np = r.one("NetworkPolicy")
        if check("optional-on: NetworkPolicy", np, r.kinds()):
            ports = {pt["port"] for ing in np["spec"]["ingress"] for pt in ing.get("ports", [])}
            check("optional-on: NetworkPolicy admits the webhook and health ports", {8443, 8080} <= ports, ports)
            eg = str(np["spec"].get("egress"))
            check("optional-on: NetworkPolicy lets the namespace watch reach the API server",
                  "10.0.0.1/32" in eg and "6443" in eg, eg)
            check("optional-on: NetworkPolicy selects the pods",
                  np["spec"]["podSelector"]["matchLabels"] == r.one("Deployment")["spec"]["selector"]["matchLabels"])

    r = get("variants")
    if check("variants: rendered", r):
        check_rbac(r, ns, watch=False)
        c = container(r)
        ps = pod_spec(r)
        check("variants: preStop.action=sleep gives lifecycle.preStop.sleep",
              c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds") == 5, c.get("lifecycle"))
        mw = [wh for k, _, wh in webhooks(r) if k.startswith("Mutating")]
        want = {(g, res) for g, rs in WORKLOAD_RESOURCES.items() for res in rs}
        check("variants: mutate-templates=true adds the workload kinds to the mutating rules",
              mw and want <= covered(mw[0]["rules"]))
        check("variants: mutating failurePolicy is configurable", mw and mw[0].get("failurePolicy") == "Fail")
        cfg = yaml.safe_load(r.one("ConfigMap")["data"]["config.yaml"])
        check("variants: config.policies reach config.yaml",
              cfg.get("policies", {}).get("replicas", {}).get("min") == 3, cfg)
        check("variants: extra excluded namespaces are added, release namespace and kube-system kept",
              all({"monitoring", ns, "kube-system"} <= set(wh["namespaceSelector"]["matchExpressions"][0]["values"])
                  for _, _, wh in webhooks(r)))
        check("variants: priorityClassName", ps.get("priorityClassName") == "system-cluster-critical")
        check("variants: a chosen priorityClassName is not exempted",
              "priority-class" not in r.one("Deployment")["spec"]["template"]["metadata"]
              .get("annotations", {}).get("plimsoll.dev/exempt", "").split(","))
        check("variants: image pinned by digest", c.get("image", "").endswith("@sha256:" + "0123456789abcdef" * 4),
              c.get("image"))
        labels = r.one("Deployment")["spec"]["template"]["metadata"]["labels"]
        ann = r.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
        check("variants: commit label made label-safe, annotation exact",
              labels.get("plimsoll.dev/commit") == "feature-x-0123abc"
              and ann.get("plimsoll.dev/commit") == "feature/x-0123abc", (labels, ann))
        pdb = r.one("PodDisruptionBudget")
        check("variants: PDB maxUnavailable replaces minAvailable",
              pdb["spec"].get("maxUnavailable") == 1 and "minAvailable" not in pdb["spec"], pdb["spec"])
        certs = r.all("Certificate")
        check("variants: cert-manager issuerRef is used, no own CA",
              len(certs) == 1 and certs[0]["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer"}
              and not r.all("Issuer"), [c["spec"].get("issuerRef") for c in certs])

    r = get("config-changed")
    base = get("generate-mutations-on")
    if check("config-changed: rendered", r and base):
        check("config-changed: a config change leaves the Deployment as it was (no restart)",
              r.one("Deployment") == base.one("Deployment"))
        cfg = yaml.safe_load(r.one("ConfigMap")["data"]["config.yaml"])
        check("config-changed: the ConfigMap carries the change",
              cfg["policies"].get("replicas", {}).get("min") == 5
              and cfg["policies"].get("image-tag", {}).get("mode") == "warn", cfg)

    r = get("webhook-url")
    if check("webhook-url: rendered", r):
        whs = [(k, wh) for k, _, wh in webhooks(r)]
        urls = {k: wh["clientConfig"].get("url") for k, wh in whs}
        check("webhook-url: URL-form clientConfig, /validate and /mutate appended once",
              urls == {"ValidatingWebhookConfiguration": "https://plimsoll.example.com:8443/hooks/validate",
                       "MutatingWebhookConfiguration": "https://plimsoll.example.com:8443/hooks/mutate"},
              urls)
        check("webhook-url: no service clientConfig beside the URL",
              not any("service" in wh["clientConfig"] for _, wh in whs))
        check("webhook-url: caBundle kept", all(wh["clientConfig"].get("caBundle") for _, wh in whs))
    r = get("dashboard-on")
    if check("dashboard-on: rendered", r):
        cms = [c for c in r.all("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")]
        if check("dashboard-on: a dashboard ConfigMap", len(cms) == 1, r.kinds()):
            md = cms[0]["metadata"]
            check("dashboard-on: labelled for the Grafana sidecar (grafana_dashboard: \"1\")",
                  md["labels"].get("grafana_dashboard") == "1", md["labels"])
            check("dashboard-on: annotations passed (sidecar folder)",
                  md.get("annotations", {}).get("grafana_folder") == "Kubernetes", md)
            d = json.loads(cms[0]["data"]["plimsoll.json"])
            check("dashboard-on: the dashboard parses, with panels", d.get("panels"), d.keys())
    base = get("generate-mutations-on")
    if base:
        check("default: no dashboard ConfigMap (grafanaDashboard off by default)",
              not [c for c in base.all("ConfigMap") if c["metadata"]["name"].endswith("-dashboard")])

    r = get("mutating-forced-on")
    if check("mutating-forced-on: rendered", r):
        check("mutating-forced-on: webhook.mutating.enabled=true registers it with every mutation off",
              len(r.all("MutatingWebhookConfiguration")) == 1, r.kinds())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--release", required=True)
    ap.add_argument("--namespace", required=True)
    ap.add_argument("--ca", required=True, help="the CA given as tls.secret.caBundle")
    a = ap.parse_args()

    renders = {}
    for f in sorted(os.listdir(a.dir)):
        if f.endswith(".yaml"):
            try:
                r = Render(os.path.join(a.dir, f))
            except yaml.YAMLError as e:
                check(f + ": parses as YAML", False, e)
                continue
            renders[r.name] = r

    for mode in ("generate", "cert-manager", "secret"):
        for mutations in ("on", "off"):
            name = "%s-mutations-%s" % (mode, mutations)
            r = renders.get(name)
            if not check(name + ": rendered and parsed", r):
                continue
            check_common(r, a.namespace, a.release)
            check_rbac(r, a.namespace, watch=True)
            check_dashboard(r, a.namespace, enabled=True)
            check_mode(r, mode, mutations == "on", a.namespace, a.ca)
    check_variants(renders, a.namespace, a.release)
    r = renders.get("dashboard-reports")
    if check("dashboard-reports: rendered and parsed", r):
        dep = next(d for d in r.dashboard if d["kind"] == "Deployment")
        args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
        check("dashboard-reports: runs with --reports every 10 s",
              "--reports" in args and args[args.index("--reports-interval-seconds") + 1] == "10", args)
        role = next(d for d in r.dashboard if d["kind"] == "ClusterRole")
        extra = [x for x in role["rules"] if x["apiGroups"] == ["openreports.io"]]
        check("dashboard-reports: writes only reports.openreports.io", extra == [
            {"apiGroups": ["openreports.io"], "resources": ["reports"],
             "verbs": ["get", "list", "create", "patch", "delete"]}], role["rules"])
        crd = [d for d in r.dashboard if d["kind"] == "CustomResourceDefinition"]
        check("dashboard-reports: the reports.openreports.io CRD, kept on uninstall",
              len(crd) == 1 and crd[0]["metadata"]["name"] == "reports.openreports.io"
              and crd[0]["metadata"]["annotations"].get("helm.sh/resource-policy") == "keep"
              and crd[0]["spec"]["versions"][0]["name"] == "v1alpha1", crd)
        check_common(r, a.namespace, a.release)
    if check("dashboard-off: rendered and parsed", renders.get("dashboard-off")):
        check_dashboard(renders["dashboard-off"], a.namespace, enabled=False)
        check_common(renders["dashboard-off"], a.namespace, a.release)
    # A render for Kubernetes 1.20 must keep every common promise too.
    if "kube-1.20" in renders:
        check_common(renders["kube-1.20"], a.namespace, a.release)
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
