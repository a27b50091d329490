# SPDX-License-Identifier: Apache-2.0
"""`plimsoll audit` end to end (issue 15): workloads created with kubectl across
namespaces with different plimsoll.dev/ annotations, audited through the real
API server, and each verdict compared with `plimsoll check` on the same object
as `kubectl get -o yaml` returns it (defaults filled in by the API server) with
the same Namespace object in the input. kube-controller-manager really creates
the ReplicaSets and Pods of the Deployments: those are judged through their
owner, so they must not appear on their own. Each namespace also holds the
neighbouring objects the neighbour policies read (docs/design/neighbours.md): a
PodDisruptionBudget for one Deployment (another has none), one that allows no
disruption, an autoscaler, and a NetworkPolicy; audit must judge the budgets and
the autoscaler, and every workload with them, as check does with the same
objects in its input.

The namespaces are labelled plimsoll.dev/skip=true so that a webhook left by an
earlier scenario never admits or rejects what is created here.
"""
import json
import os
import subprocess

from e2elib import check, deployment, until, workload_reader_rbac

NAMESPACES = {
    "audit-enforce": {},
    "audit-warn": {"plimsoll.dev/mode": "warn", "example.com/owner": "not-for-the-audit"},
    "audit-mixed": {"plimsoll.dev/liveness-probe": "off", "plimsoll.dev/resources": "warn",
                    "plimsoll.dev/network-policy": "warn"},
}
# Kinds fetched for check: every one audit reads (kubectl's short names).
KINDS = ("deployments,statefulsets,daemonsets,replicasets,replicationcontrollers,cronjobs,jobs,pods,"
         "poddisruptionbudgets,horizontalpodautoscalers,networkpolicies")
JUDGED_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                 "ReplicationController", "Job", "CronJob"}
COMPARED = ("kind", "namespace", "name", "status", "allowed", "evaluated", "message",
            "warnings", "notes", "policies", "reason")


def pod_template(name, image="registry.example.com/shop/job:2.0"):
    return {"metadata": {"labels": {"app.kubernetes.io/name": name}},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "main", "image": image,
                                     "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                                   "limits": {"memory": "32Mi"}}}]}}


def workloads(ns):
    """A good, a bad and an exempted Deployment, and one of each other kind."""
    exempt = {"plimsoll.dev/exempt": "liveness-probe,readiness-probe",
              "plimsoll.dev/exempt-reason": "batch worker without an HTTP port"}
    objs = [deployment("good", ns, secure=True),
            deployment("bad", ns, liveness=False, image="nginx:latest"),
            deployment("exempt", ns, liveness=False, readiness=False, annotations=exempt),
            json.dumps({"apiVersion": "apps/v1", "kind": "StatefulSet",
                        "metadata": {"name": "db", "namespace": ns},
                        "spec": {"serviceName": "db", "replicas": 1,
                                 "selector": {"matchLabels": {"app.kubernetes.io/name": "db"}},
                                 "template": {**json.loads(deployment("db", ns))["spec"]
                                              ["template"]}}}),
            json.dumps({"apiVersion": "batch/v1beta1", "kind": "CronJob",
                        "metadata": {"name": "nightly", "namespace": ns},
                        "spec": {"schedule": "0 3 * * *",
                                 "jobTemplate": {"spec": {"template": pod_template("nightly")}}}}),
            json.dumps({"apiVersion": "batch/v1", "kind": "Job",
                        "metadata": {"name": "migrate", "namespace": ns},
                        "spec": {"template": pod_template("migrate", "busybox")}}),
            json.dumps({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "lone", "namespace": ns,
                                     "labels": {"app.kubernetes.io/name": "lone"}},
                        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}),
            # "good" has a budget, "bad" none; "db" (1 replica) has one that allows no
            # eviction; "exempt" is scaled by an autoscaler down to 1 pod.
            pdb("good-pdb", "good", ns, {"maxUnavailable": 1}),
            pdb("db-pdb", "db", ns, {"minAvailable": 1}),
            json.dumps({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": "exempt-hpa", "namespace": ns},
                        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1",
                                                    "kind": "Deployment", "name": "exempt"},
                                 "minReplicas": 1, "maxReplicas": 4}}),
            json.dumps({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": "good-netpol", "namespace": ns},
                        "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "good"}},
                                 "policyTypes": ["Ingress", "Egress"]}})]
    return objs


def pdb(name, app, ns, rule):
    """A PodDisruptionBudget (policy/v1beta1: the kit is Kubernetes 1.20) for app's pods."""
    return json.dumps({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget",
                       "metadata": {"name": name, "namespace": ns},
                       "spec": {**rule, "selector": {"matchLabels":
                                                     {"app.kubernetes.io/name": app}}}})


def owned(obj):
    return any(r.get("controller") and r.get("kind") in JUDGED_OWNERS
               for r in obj.get("metadata", {}).get("ownerReferences", []))


def run(binary, *args, input=None):
    return subprocess.run([binary, *args], input=input, capture_output=True, text=True,
                          timeout=120)


def comparable(result):
    """What must agree: the verdict, every finding (not the file, line or column)."""
    out = {k: result.get(k) for k in COMPARED}
    for key in ("violations", "suppressed", "problems"):
        out[key] = [{k: v for k, v in item.items() if k not in ("line", "column")}
                    for item in result.get(key, [])]
    return out


def audit_scenarios(cl, binary, work):
    kubeconfig = os.path.join(cl.state, "kubeconfig")

    def setup():
        for ns, ann in NAMESPACES.items():
            p = cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": ns, "annotations": ann,
                                                  "labels": {"plimsoll.dev/skip": "true"}}}))
            assert p.returncode == 0, p.stderr
            for obj in workloads(ns):
                p = cl.apply(obj)
                assert p.returncode == 0, p.stderr

        # The controllers' ReplicaSets and Pods exist before the audit starts.
        def replicasets():
            p = cl.k("get", "replicasets", "-A", "-o", "json")
            n = sum(1 for rs in json.loads(p.stdout or '{"items":[]}')["items"]
                    if rs["metadata"]["namespace"] in NAMESPACES)
            return n >= 3 * len(NAMESPACES), n
        until(replicasets, 60, "the Deployments' ReplicaSets")

    def audit(*args):
        p = run(binary, "audit", "--kubeconfig", kubeconfig, *args)
        return p

    def audit_equals_check():
        for ns in NAMESPACES:
            p = audit("--output", "json", "--namespace", ns)
            # Same exit codes as check: warn mode rejects nothing.
            assert p.returncode == (0 if ns == "audit-warn" else 1), (ns, p.returncode, p.stderr)
            got = {(r["kind"], r["name"]): r for r in json.loads(p.stdout)["results"]}
            stored = json.loads(cl.k("get", KINDS, "-n", ns, "-o", "json", check=True).stdout)
            objs = [o for o in stored["items"] if not owned(o)]
            ns_yaml = cl.k("get", "namespace", ns, "-o", "yaml", check=True).stdout
            list_yaml = cl.k("get", KINDS, "-n", ns, "-o", "yaml", check=True).stdout
            c = run(binary, "check", "--output", "json", "-", input=ns_yaml + "---\n" + list_yaml)
            assert c.returncode in (0, 1), c.stderr
            want = {(r["kind"], r["name"]): r for r in json.loads(c.stdout)["results"]
                    if r["kind"] != "Namespace"}
            # NetworkPolicies are read, not judged (check lists them as skipped).
            want = {key: r for key, r in want.items()
                    if key[0] != "NetworkPolicy"
                    and any(o["kind"] == key[0] and o["metadata"]["name"] == key[1]
                            for o in objs)}
            assert set(got) == set(want), (ns, sorted(got), sorted(want))
            # 3 Deployments, StatefulSet, CronJob, Job, Pod, 2 budgets, an autoscaler
            assert len(got) == 10, sorted(got)
            for key, r in got.items():
                assert comparable(r) == comparable(want[key]), (ns, key, comparable(r),
                                                                comparable(want[key]))

            # The neighbour policies really ran, on both sides.
            def policies(key):
                return {v["policy"] for v in got[key]["violations"]}
            assert "pod-disruption-budget" in policies(("Deployment", "bad")), got
            assert "pod-disruption-budget" not in policies(("Deployment", "good")), got
            assert "pdb-allows-disruption" in policies(("PodDisruptionBudget", "db-pdb")), got
            assert "pdb-allows-disruption" not in policies(("PodDisruptionBudget", "good-pdb")), got
            assert "hpa-replicas" in policies(("HorizontalPodAutoscaler", "exempt-hpa")), got
            assert "hpa-replicas" in policies(("Deployment", "exempt")), got
            netpol = "network-policy" in policies(("Deployment", "bad"))
            assert netpol == (ns == "audit-mixed"), (ns, got[("Deployment", "bad")])
            assert "network-policy" not in policies(("Deployment", "good")), got

    def annotations_scope_verdicts():
        p = audit("--output", "json", "--namespace", "audit-enforce", "--namespace",
                  "audit-warn", "--namespace", "audit-mixed")
        res = {(r["namespace"], r["name"]): r for r in json.loads(p.stdout)["results"]}
        assert res[("audit-enforce", "bad")]["status"] == "rejected"
        assert res[("audit-warn", "bad")]["status"] == "admitted"
        assert res[("audit-warn", "bad")]["warnings"]
        assert res[("audit-enforce", "good")]["status"] == "admitted"
        mixed = res[("audit-mixed", "bad")]
        assert "liveness-probe" not in [v["policy"] for v in mixed["violations"]], mixed
        assert mixed["status"] == "rejected"  # image-tag still enforced
        ex = res[("audit-enforce", "exempt")]
        assert {v["policy"] for v in ex["suppressed"]} >= {"liveness-probe", "readiness-probe"}
        assert all(v["suppression"] == "exempt" for v in ex["suppressed"])
        # Sorted by namespace, then kind, then name.
        keys = [(r["namespace"], r["kind"], r["name"]) for r in json.loads(p.stdout)["results"]]
        assert keys[0][0] == "audit-enforce" and keys[-1][0] == "audit-warn", keys

    def owned_objects_not_listed():
        p = audit("--output", "json")
        assert p.returncode == 1, p.stderr
        doc = json.loads(p.stdout)
        kinds = {r["kind"] for r in doc["results"] if r["namespace"] in NAMESPACES}
        assert "ReplicaSet" not in kinds, kinds
        names = {r["name"] for r in doc["results"] if r["kind"] == "Pod"
                 and r["namespace"] in NAMESPACES}
        assert names == {"lone"}, names
        assert doc["summary"]["objects"] == len(doc["results"])
        assert doc["summary"]["rejected"] == sum(r["status"] == "rejected" for r in doc["results"])

    def formats_and_exit_codes():
        t = audit("--namespace", "audit-warn")
        assert t.returncode == 0, t.stdout + t.stderr  # warn mode: nothing rejected
        assert "/apis/apps/v1/namespaces/audit-warn/deployments/bad:" in t.stdout, t.stdout
        assert "objects: 0 skipped, 0 invalid, 0 rejected" in t.stdout.splitlines()[-1], t.stdout
        s = audit("--output", "sarif", "--namespace", "audit-enforce")
        assert s.returncode == 1
        sarif = json.loads(s.stdout)
        results = sarif["runs"][0]["results"]
        assert any(r["ruleId"] == "image-tag" for r in results), results
        uri = results[0]["locations"][0]["physicalLocation"]["artifactLocation"]
        assert uri["uri"].startswith("ap") and uri["uriBaseId"] == "%SRCROOT%", uri
        base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        assert base.startswith("https://127.0.0.1:"), base
        j = audit("--output", "junit", "--namespace", "audit-enforce")
        assert j.returncode == 1 and "<testsuite" in j.stdout and "<failure" in j.stdout
        bad_ns = audit("--namespace", "no-such-namespace")
        assert bad_ns.returncode == 2 and "namespace no-such-namespace not found" in bad_ns.stderr
        assert bad_ns.stdout == ""
        missing = audit("--kubeconfig", os.path.join(work, "nope.yaml"))
        assert missing.returncode == 2 and missing.stdout == "", missing
        bad_out = audit("--output", "yaml")
        assert bad_out.returncode == 2 and "--output" in bad_out.stderr

    def refused_access_is_an_error():
        # The namespace reader may list namespaces but no workload: exit 2, no results.
        reader = os.path.join(cl.state, "kubeconfig-namespace-reader")
        p = run(binary, "audit", "--kubeconfig", reader)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert "cannot list /apis/apps/v1/deployments" in p.stderr, p.stderr
        assert "403" in p.stderr or "forbidden" in p.stderr.lower(), p.stderr
        assert p.stdout == ""

    def forbidden_neighbours_are_said():
        # A reader of the workloads that may not list budgets, autoscalers nor
        # NetworkPolicies: the audit says which policies it did not run and runs them
        # nowhere, instead of warning every Deployment that it lacks a budget.
        reader = os.path.join(cl.state, "kubeconfig-namespace-reader")
        for manifest in workload_reader_rbac("e2e-audit-workloads", ["get", "list"]):
            p = cl.apply(manifest)
            assert p.returncode == 0, p.stderr
        try:
            def audited():
                p = run(binary, "audit", "--kubeconfig", reader, "--output", "json",
                        "--namespace", "audit-enforce")
                return p.returncode == 1, p
            p = until(audited, 30, "the workload reader's audit")
            assert "cannot list poddisruptionbudgets (forbidden)" in p.stderr, p.stderr
            assert "pod-disruption-budget" in p.stderr and "not run" in p.stderr, p.stderr
            results = json.loads(p.stdout)["results"]
            kinds = {r["kind"] for r in results}
            assert "PodDisruptionBudget" not in kinds and "Deployment" in kinds, kinds
            found = {v["policy"] for r in results for v in r["violations"]}
            assert not found & {"pod-disruption-budget", "pdb-allows-disruption",
                                "hpa-replicas", "network-policy"}, found
        finally:
            cl.k("delete", "clusterrolebinding,clusterrole", "e2e-audit-workloads")

    if not check("audit: workloads created in three namespaces", setup):
        return
    check("audit: --output json equals check on kubectl get -o yaml, object by object",
          audit_equals_check)
    check("audit: namespace annotations and exemptions scope the verdicts",
          annotations_scope_verdicts)
    check("audit: owned ReplicaSets and Pods are judged through their owner", owned_objects_not_listed)
    check("audit: text, sarif, junit and exit codes 0/1/2", formats_and_exit_codes)
    check("audit: an API server that refuses the list is exit 2", refused_access_is_an_error)
    check("audit: budgets it may not list are said, their policies not run",
          forbidden_neighbours_are_said)
    for ns in NAMESPACES:
        cl.k("delete", "namespace", ns, "--wait=false")
