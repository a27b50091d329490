#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""End-to-end scenarios against a running kube-apiserver (see run.sh).

Namespace scoping (issue: per-namespace modes): a namespace in warn mode admits a
bad Deployment with Warning: lines; switching it to enforce rejects the next one
within seconds; a per-policy annotation turns one policy off; an exemption needs a
reason; an UPDATE of a grandfathered Deployment is admitted; an API server restart
is survived. Chart install (issue: Helm chart): the rendered chart's objects are
applied, its configuration and webhook configuration drive a plimsoll on loopback,
and kubectl shows a bad Deployment rejected and a good one admitted. Controller-aware
admission (controllers.py): Pods that the controllers really create after a scale, a
rollout, an exemption or a warn -> enforce switch, counted with kubectl.
Certificate rotation (rotation.py): to a new CA and back with the API server
reconnecting, every request counted; a wrong caBundle counted as failed handshakes. The
cluster audit (audit.py): `plimsoll audit` over workloads in three namespaces equals
`plimsoll check` on the same objects as kubectl returns them. The dashboard
(dashboard.py): live changes within seconds, metrics, and the page in chromium; with
--reports (reports.py), OpenReports Reports the API server's schema accepts.

Prints "ok - ..." / "not ok - ..." and ends with "N passed, N failed".
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

from e2elib import ROOT, RESULTS, Cluster, Plimsoll, check, deployment, until, webhook_config
import audit  # noqa: E402 - beside this file
import dashboard  # noqa: E402 - beside this file
import reports  # noqa: E402 - beside this file
import controllers  # noqa: E402 - beside this file
import rotation  # noqa: E402 - beside this file

# ------------------------------------------------------------- scenarios

def scoping_scenarios(cl, binary, work, certs):
    config = os.path.join(work, "scoping.yaml")
    with open(config, "w") as f:
        f.write("policies:\n" + "".join(
            f"  {p}: {{mode: off}}\n" for p in [
                "automount-token", "commit-labels", "config-mounted", "distinct-probes",
                "graceful-shutdown", "image-registry", "image-tag", "plain-secrets",
                "pod-security", "priority-class", "probe-ports", "read-only-root-filesystem",
                "replicas", "required-annotations", "required-labels", "service-account",
                "spread"]))
    reader = os.path.join(cl.state, "kubeconfig-namespace-reader")
    pl = Plimsoll(binary, work, certs, config, reader)
    ca = open(os.path.join(certs, "ca.crt")).read()
    cl.k("label", "namespace", "kube-system", "plimsoll.dev/skip=true", "--overwrite", check=True)
    cl.apply(webhook_config("plimsoll-e2e", pl.port, ca))
    ns = "e2e-shop"
    cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": ns,
                                      "annotations": {"plimsoll.dev/mode": "warn"}}}))

    def warn_mode_admits_with_warnings():
        def attempt():
            p = cl.apply(deployment("web", ns, liveness=False))
            return p.returncode == 0 and "Warning: [liveness-probe]" in p.stderr, p.stderr
        err = until(attempt, 20, "bad Deployment admitted with a Warning")
        assert "Warning: [liveness-probe] containers[0] (web): no livenessProbe; a hung process is never restarted" in err, err
        assert "Runbooks: " in err, err
        assert cl.k("get", "deployment", "web", "-n", ns).returncode == 0

    def enforce_rejects_within_seconds():
        cl.k("annotate", "namespace", ns, "plimsoll.dev/mode=enforce", "--overwrite", check=True)
        started = time.time()

        def attempt():
            p = cl.apply(deployment("web2", ns, liveness=False))
            return p.returncode != 0, p.stderr
        err = until(attempt, 10, "bad Deployment rejected after switching to enforce")
        took = time.time() - started
        assert took < 3, f"took {took:.1f}s"
        assert ('admission webhook "validate.plimsoll.dev" denied the request: plimsoll rejected '
                f"Deployment {ns}/web2: 1 production-readiness violation") in err, err
        assert ("- [liveness-probe] spec.template.spec.containers[0] (web): no livenessProbe; "
                "a hung process is never restarted. Runbook: ") in err, err
        assert cl.k("get", "deployment", "web2", "-n", ns).returncode != 0

    def policy_annotation_turns_one_policy_off():
        cl.k("annotate", "namespace", ns, "plimsoll.dev/liveness-probe=off", "--overwrite",
             check=True)

        def attempt():
            p = cl.apply(deployment("web3", ns, liveness=False))
            return p.returncode == 0, p.stderr
        until(attempt, 10, "liveness-probe off admits a Deployment without liveness probe")
        p = cl.apply(deployment("web4", ns, readiness=False))
        assert p.returncode != 0 and "[readiness-probe]" in p.stderr, p.stderr
        cl.k("annotate", "namespace", ns, "plimsoll.dev/liveness-probe-", check=True)
        until(lambda: ((lambda p: (p.returncode != 0, p.stderr))(
            cl.apply(deployment("web5", ns, liveness=False)))), 10, "liveness-probe back on")

    def exemption_needs_a_reason():
        p = cl.apply(deployment("exempt-no-reason", ns, liveness=False,
                                annotations={"plimsoll.dev/exempt": "liveness-probe"}))
        assert p.returncode != 0 and "[liveness-probe]" in p.stderr, p.stderr
        p = cl.apply(deployment("exempt-ok", ns, liveness=False,
                                annotations={"plimsoll.dev/exempt": "liveness-probe",
                                             "plimsoll.dev/exempt-reason": "queue worker"}))
        assert p.returncode == 0, p.stderr

    def grandfathered_updates():
        p = cl.k("scale", "deployment", "web", "-n", ns, "--replicas=3")
        assert p.returncode == 0, p.stderr
        p = cl.k("patch", "deployment", "web", "-n", ns, "--type=merge", "-p",
                 json.dumps({"spec": {"template": {"metadata": {"annotations": {"rev": "2"}}}}}))
        assert p.returncode == 0, p.stderr
        assert "(already there before this update: allowed)" in p.stderr, p.stderr
        # a new violation on UPDATE is still rejected
        p = cl.k("patch", "deployment", "web", "-n", ns, "--type=json", "-p", json.dumps(
            [{"op": "add", "path": "/spec/template/spec/containers/-",
              "value": {"name": "side", "image": "registry.example.com/side:1"}}]))
        assert p.returncode != 0 and "containers[1] (side)" in p.stderr, p.stderr

    def controller_pods_are_admitted():
        p = cl.apply(deployment("good", ns))
        assert p.returncode == 0, p.stderr

        def attempt():
            p = cl.k("get", "pods", "-n", ns, "-l", "app.kubernetes.io/name=good", "-o", "name")
            return len(p.stdout.split()) == 2, p.stdout
        until(attempt, 30, "the ReplicaSet controller's pods are created")
        assert "replicaset-controller" in pl.read_log()

    def mutation_stamps_commit_on_created_pods():
        mutating = webhook_config("plimsoll-e2e-mutate", pl.port, ca).replace(
            "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration").replace(
            "validate.plimsoll.dev", "mutate.plimsoll.dev").replace("/validate", "/mutate")
        mutating = mutating.replace("  matchPolicy: Equivalent\n",
                                    "  matchPolicy: Equivalent\n  reinvocationPolicy: IfNeeded\n")
        assert cl.apply(mutating).returncode == 0
        tag = "main-3f2a9c1e5b7d-1700000000"
        labels = {"app.kubernetes.io/name": "stamped"}

        def attempt():
            cl.k("delete", "deployment", "stamped", "-n", ns, "--ignore-not-found", "--wait=false")
            p = cl.apply(deployment("stamped", ns, image=f"registry.example.com/shop/web:{tag}",
                                    labels=labels, replicas=1))
            if p.returncode != 0:
                return False, p.stderr
            deadline = time.time() + 15
            while time.time() < deadline:
                got = cl.k("get", "pods", "-n", ns, "-l", "app.kubernetes.io/name=stamped",
                           "-o", "json")
                items = json.loads(got.stdout or "{}").get("items", [])
                if items:
                    return True, items[0]
                time.sleep(0.3)
            return False, "no pod"
        pod = until(attempt, 40, "the controller's Pod is created through /mutate")
        meta = pod["metadata"]
        assert meta["labels"].get("plimsoll.dev/commit") == "3f2a9c1e5b7d", meta
        assert meta["labels"].get("plimsoll.dev/branch") == "main", meta
        assert meta["annotations"].get("plimsoll.dev/commit") == "3f2a9c1e5b7d", meta
        assert '"decision":"mutated"' in pl.read_log()
        cl.k("delete", "mutatingwebhookconfiguration", "plimsoll-e2e-mutate")

    def api_server_restart_is_survived():
        cl.restart()
        assert pl.get("/readyz")[0] == 200, "plimsoll must stay ready on its last view"
        ns2 = "e2e-after-restart"
        cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": ns2,
                                          "annotations": {"plimsoll.dev/mode": "warn"}}}))

        def attempt():
            p = cl.apply(deployment("web", ns2, liveness=False))
            return p.returncode == 0 and "Warning: [liveness-probe]" in p.stderr, p.stderr
        until(attempt, 60, "a namespace created after the restart is seen")
        _, metrics = pl.get("/metrics")
        assert "plimsoll_namespace_view_staleness_seconds" in metrics, metrics[-500:]

    ok = True
    for name, fn in [("warn mode admits a bad Deployment with Warning lines", warn_mode_admits_with_warnings),
                     ("switching to enforce rejects the next one within seconds", enforce_rejects_within_seconds),
                     ("plimsoll.dev/liveness-probe: off turns only that policy off", policy_annotation_turns_one_policy_off),
                     ("an exemption needs a reason", exemption_needs_a_reason),
                     ("UPDATE of a grandfathered Deployment is admitted; a new violation is not", grandfathered_updates),
                     ("pods created by the ReplicaSet controller are admitted", controller_pods_are_admitted),
                     ("/mutate stamps commit and branch on the Pods a controller creates", mutation_stamps_commit_on_created_pods),
                     ("an API server restart is survived", api_server_restart_is_survived)]:
        ok = check(name, fn) and ok
    cl.k("delete", "validatingwebhookconfiguration", "plimsoll-e2e", "--ignore-not-found")
    code = pl.stop()
    check("plimsoll exits 0 after SIGTERM", lambda: (_ for _ in ()).throw(AssertionError(code)) if code != 0 else None)
    if not ok:
        print("    plimsoll log tail:\n    " + pl.read_log()[-3000:].replace("\n", "\n    "))


def chart_install(cl, binary, work, certs):
    helm = subprocess.run([os.path.join(ROOT, "scripts", "get-helm.sh")], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    rendered = subprocess.run([helm, "template", "plimsoll", os.path.join(ROOT, "charts", "plimsoll"),
                               "--namespace", "plimsoll-system", "--kube-version", "1.20.0"],
                              capture_output=True, text=True, check=True).stdout
    import yaml  # python3-yaml
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                         "metadata": {"name": "plimsoll-system",
                                      "labels": {"plimsoll.dev/skip": "true"}}}))
    cl.k("label", "namespace", "kube-system", "plimsoll.dev/skip=true", "--overwrite")
    config_path = os.path.join(work, "chart-config.yaml")
    webhooks = []
    for d in docs:
        if d["kind"] == "ConfigMap" and "config.yaml" in d.get("data", {}):
            with open(config_path, "w") as f:
                f.write(d["data"]["config.yaml"])
        if d["kind"].endswith("WebhookConfiguration"):
            webhooks.append(d)
    assert os.path.exists(config_path), "the chart renders no ConfigMap with config.yaml"
    assert any(w["kind"] == "ValidatingWebhookConfiguration" for w in webhooks)
    pl = Plimsoll(binary, work, certs, config_path,
                  os.path.join(cl.state, "kubeconfig-namespace-reader"))
    ca = base64.b64encode(open(os.path.join(certs, "ca.crt"), "rb").read()).decode()
    path_of = {"ValidatingWebhookConfiguration": "/validate",
               "MutatingWebhookConfiguration": "/mutate"}
    for w in webhooks:  # only clientConfig changes: the chart's Service has no endpoints here
        for hook in w["webhooks"]:
            hook["clientConfig"] = {"url": f"https://localhost:{pl.port}{path_of[w['kind']]}",
                                    "caBundle": ca}
    others = [d for d in docs if not d["kind"].endswith("WebhookConfiguration")]

    def chart_objects_apply():
        p = cl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": others}))
        assert p.returncode == 0, p.stderr
        p = cl.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": webhooks}))
        assert p.returncode == 0, p.stderr

    ns = "e2e-chart"

    def bad_rejected_good_admitted():
        cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))

        def attempt():
            p = cl.apply(deployment("bad", ns, liveness=False))
            return p.returncode != 0 and "denied the request: plimsoll rejected" in p.stderr, p.stderr
        err = until(attempt, 20, "a bad Deployment rejected through the chart's webhook")
        assert "[liveness-probe]" in err and "[pod-security]" in err, err
        p = cl.apply(deployment("good", ns, secure=True))
        assert p.returncode == 0, p.stderr
        assert cl.k("get", "deployment", "good", "-n", ns).returncode == 0

    ok = check("the rendered chart's objects apply to the API server", chart_objects_apply)
    ok = check("through the chart's webhook: bad Deployment rejected, good one admitted",
               bad_rejected_good_admitted) and ok
    for w in webhooks:
        cl.k("delete", w["kind"].lower(), w["metadata"]["name"], "--ignore-not-found")
    pl.stop()
    if not ok:
        print("    plimsoll log tail:\n    " + pl.read_log()[-3000:].replace("\n", "\n    "))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plimsoll", required=True)
    ap.add_argument("--kit", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--only", help="run one scenario group: scoping, controllers, chart, rotation, "
                    "audit, dashboard, reports")
    a = ap.parse_args()
    cl = Cluster(a.kit, a.state)
    with tempfile.TemporaryDirectory(prefix="plimsoll-e2e-") as work:
        certs = os.path.join(work, "certs")
        subprocess.run([a.plimsoll, "certs", "generate", "--service", "plimsoll", "--namespace",
                        "plimsoll-system", "--out", certs, "--dns", "localhost"], check=True,
                       capture_output=True)
        groups = {"rotation": lambda: rotation.rotation_scenario(cl, a.plimsoll, work),
                  "scoping": lambda: scoping_scenarios(cl, a.plimsoll, work, certs),
                  "controllers": lambda: controllers.controller_scenarios(cl, a.plimsoll, work,
                                                                          certs),
                  "chart": lambda: chart_install(cl, a.plimsoll, work, certs),
                  "audit": lambda: audit.audit_scenarios(cl, a.plimsoll, work),
                  "dashboard": lambda: dashboard.dashboard_scenarios(cl, a.plimsoll, work),
                  "reports": lambda: reports.reports_scenarios(cl, a.plimsoll, work)}
        for name, run in groups.items():
            if not a.only or a.only == name:
                run()
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 0 if RESULTS["failed"] == 0 and RESULTS["passed"] > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
