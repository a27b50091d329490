# SPDX-License-Identifier: Apache-2.0
"""Controller-aware admission, end to end (SPEC §6 "Pods created by workload
controllers"): kube-controller-manager really creates ReplicaSets, Pods and Jobs
here, so every scenario counts the objects a user would see with kubectl after a
scale, a rollout, an exemption or a namespace switched from warn to enforce.

Policies: liveness-probe, readiness-probe and image-tag enforce, pod-security
enforce at level baseline (enforced on every Pod by default), the rest off.
"""
import json
import os
import time

from e2elib import Plimsoll, check, deployment, until, webhook_config

POLICIES = {"liveness-probe": "enforce", "readiness-probe": "enforce", "image-tag": "enforce",
            "pod-security": "enforce"}
OFF = ["automount-token", "commit-labels", "config-mounted", "distinct-probes",
       "graceful-shutdown", "image-registry", "plain-secrets", "priority-class", "probe-ports",
       "read-only-root-filesystem", "replicas", "required-annotations", "required-labels",
       "resources", "service-account", "spread"]


def write_config(path):
    with open(path, "w") as f:
        f.write("policies:\n")
        for p, mode in POLICIES.items():
            extra = ", level: baseline" if p == "pod-security" else ""
            f.write(f"  {p}: {{mode: {mode}{extra}}}\n")
        for p in OFF:
            f.write(f"  {p}: {{mode: off}}\n")


def with_owner_annotations(manifest, annotations):
    """A workload manifest with annotations on its own metadata (not the template's)."""
    d = json.loads(manifest)
    d["metadata"]["annotations"] = annotations
    return json.dumps(d)


def controller_scenarios(cl, binary, work, certs):
    config = os.path.join(work, "controllers.yaml")
    write_config(config)
    pl = Plimsoll(binary, work, certs, config, os.path.join(cl.state, "kubeconfig-namespace-reader"))
    ca = open(os.path.join(certs, "ca.crt")).read()
    cl.k("label", "namespace", "kube-system", "plimsoll.dev/skip=true", "--overwrite", check=True)
    cl.apply(webhook_config("plimsoll-e2e-controllers", pl.port, ca))

    def namespace(name, mode):
        p = cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                 "metadata": {"name": name,
                                              "annotations": {"plimsoll.dev/mode": mode}}}))
        assert p.returncode == 0, p.stderr
        wait_mode(name, mode)

    def wait_mode(ns, mode):
        """Until plimsoll's namespace view has ns in mode: a probe Deployment without a
        liveness probe is rejected (enforce) or admitted (warn), checked with a server
        dry run so that nothing is stored."""
        def attempt():
            p = cl.apply(deployment("mode-probe", ns, liveness=False), "--dry-run=server")
            return (p.returncode != 0) == (mode == "enforce"), p.stderr
        until(attempt, 20, f"namespace {ns} in {mode} mode as plimsoll sees it")

    def switch(ns, mode):
        cl.k("annotate", "namespace", ns, f"plimsoll.dev/mode={mode}", "--overwrite", check=True)
        wait_mode(ns, mode)

    def pods(ns, selector):
        p = cl.k("get", "pods", "-n", ns, "-l", selector, "-o", "json", check=True)
        return json.loads(p.stdout)["items"]

    def wait_pods(ns, selector, n, timeout=45):
        def attempt():
            got = pods(ns, selector)
            return len(got) == n, [x["metadata"]["name"] for x in got]
        until(attempt, timeout, f"{n} Pods with {selector} in {ns}")

    def failed_creates(ns):
        p = cl.k("get", "events", "-n", ns, "-o", "json", check=True)
        return [e["message"] for e in json.loads(p.stdout)["items"]
                if e.get("reason") in ("FailedCreate", "ReplicaSetCreateError")]

    def stays(ns, selector, n, seconds=4):
        """The Pod count holds at n for a few seconds: the controllers retry failed creates
        within that time, so an extra Pod would show."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            got = len(pods(ns, selector))
            assert got == n, f"{got} Pods with {selector} in {ns}, want {n}"
            time.sleep(0.5)

    # The CronJob controller acts on the minute: its scenario is set up first and
    # checked last, so that the wait overlaps the other scenarios.
    ns_cron = "e2e-ctl-cron"

    def cronjob_exemption_is_created():
        namespace(ns_cron, "enforce")
        cron = {"apiVersion": "batch/v1beta1", "kind": "CronJob",
                "metadata": {"name": "nightly", "namespace": ns_cron,
                             "annotations": {"plimsoll.dev/exempt": "image-tag",
                                             "plimsoll.dev/exempt-reason": "vendor image, tag pinned upstream"}},
                "spec": {"schedule": "* * * * *", "concurrencyPolicy": "Forbid",
                         "jobTemplate": {"spec": {"template": {"spec": {
                             "restartPolicy": "Never",
                             "containers": [{"name": "job", "image": "registry.example.com/batch:latest"}]}}}}}}
        p = cl.apply(json.dumps(cron))
        assert p.returncode == 0, p.stderr
        # Without the exemption the CronJob itself is rejected.
        bare = dict(cron, metadata={"name": "bare", "namespace": ns_cron})
        p = cl.apply(json.dumps(bare))
        assert p.returncode != 0 and "[image-tag]" in p.stderr, p.stderr

    ns = "e2e-ctl-scale"

    def grandfathered_scale_up_creates_pods():
        namespace(ns, "warn")
        p = cl.apply(deployment("web", ns, liveness=False, replicas=1))
        assert p.returncode == 0 and "Warning: [liveness-probe]" in p.stderr, p.stderr
        wait_pods(ns, "app.kubernetes.io/name=web", 1)
        switch(ns, "enforce")
        p = cl.k("scale", "deployment", "web", "-n", ns, "--replicas=3")
        assert p.returncode == 0, p.stderr
        wait_pods(ns, "app.kubernetes.io/name=web", 3)
        assert failed_creates(ns) == [], failed_creates(ns)
        assert '"suppressed":{"controller":["liveness-probe"]}' in pl.read_log()

    def template_patch_rolls_out():
        p = cl.k("patch", "deployment", "web", "-n", ns, "--type=merge", "-p",
                 json.dumps({"spec": {"template": {"metadata": {"annotations": {"rev": "2"}}}}}))
        assert p.returncode == 0, p.stderr
        assert "(already there before this update: allowed)" in p.stderr, p.stderr

        def new_replicaset_has_pods():
            rs = json.loads(cl.k("get", "replicasets", "-n", ns, "-l",
                                 "app.kubernetes.io/name=web", "-o", "json", check=True).stdout)["items"]
            newest = [r for r in rs if r["metadata"]["annotations"].get(
                "deployment.kubernetes.io/revision") == "2"]
            if not newest:
                return False, "no revision-2 ReplicaSet"
            h = newest[0]["metadata"]["labels"]["pod-template-hash"]
            want = newest[0]["spec"]["replicas"]
            got = len(pods(ns, f"pod-template-hash={h}"))
            return want >= 1 and got == want, f"revision 2: {got} of {want} Pods"
        until(new_replicaset_has_pods, 45, "the new ReplicaSet gets its Pods")
        assert failed_creates(ns) == [], failed_creates(ns)

    def metadata_exemption_reaches_pods():
        p = cl.apply(with_owner_annotations(
            deployment("exempt", ns, liveness=False, replicas=2),
            {"plimsoll.dev/exempt": "liveness-probe",
             "plimsoll.dev/exempt-reason": "queue worker without an HTTP endpoint"}))
        assert p.returncode == 0, p.stderr
        wait_pods(ns, "app.kubernetes.io/name=exempt", 2)
        log = pl.read_log()
        assert '"name":"exempt","operation":"CREATE"' in log, log[-2000:]
        assert '"suppressed":{"exempt":["liveness-probe"]}' in log, log[-2000:]

    def forged_owner_is_rejected():
        rs = json.loads(cl.k("get", "replicasets", "-n", ns, "-l", "app.kubernetes.io/name=web",
                             "-o", "json", check=True).stdout)["items"][0]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "forged", "namespace": ns,
                            "labels": {"app.kubernetes.io/name": "forged"},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                 "name": rs["metadata"]["name"],
                                                 "uid": rs["metadata"]["uid"], "controller": True}]},
               "spec": {"containers": [{"name": "web", "image": "registry.example.com/shop/web:1.4.2",
                                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}]}}
        p = cl.k("create", "-f", "-", input=json.dumps(pod))
        assert p.returncode != 0, p.stdout
        assert "plimsoll rejected Pod e2e-ctl-scale/forged" in p.stderr, p.stderr
        assert "[liveness-probe]" in p.stderr, p.stderr
        assert cl.k("get", "pod", "forged", "-n", ns).returncode != 0

    ns_psa = "e2e-ctl-psa"

    def grandfathered_pod_security_rejected_on_pods():
        namespace(ns_psa, "warn")
        d = json.loads(deployment("agent", ns_psa, replicas=1))
        d["spec"]["template"]["spec"]["hostPID"] = True
        p = cl.apply(json.dumps(d))
        assert p.returncode == 0 and "Warning: [pod-security]" in p.stderr, p.stderr
        wait_pods(ns_psa, "app.kubernetes.io/name=agent", 1)
        switch(ns_psa, "enforce")
        # The Deployment is still admitted, and told that its new Pods will not be.
        p = cl.k("patch", "deployment", "agent", "-n", ns_psa, "--type=merge", "-p",
                 json.dumps({"spec": {"replicas": 2}}))
        assert p.returncode == 0, p.stderr
        assert "enforced on every Pod, so new Pods are rejected" in p.stderr, p.stderr

        def rejected():
            msgs = failed_creates(ns_psa)
            return any("enforced on every Pod, also those a controller creates" in m
                       for m in msgs), msgs
        msgs = until(rejected, 45, "the ReplicaSet's new Pod rejected by pod-security")
        assert any("[pod-security] spec.hostPID" in m for m in msgs), msgs
        stays(ns_psa, "app.kubernetes.io/name=agent", 1)

    ns_sts = "e2e-ctl-sts"

    def statefulset_scales():
        namespace(ns_sts, "warn")
        d = json.loads(deployment("db", ns_sts, liveness=False, replicas=1))
        d["kind"] = "StatefulSet"
        d["spec"]["serviceName"] = "db"
        d["spec"]["podManagementPolicy"] = "Parallel"  # no kubelet: no Pod ever gets Ready
        p = cl.apply(json.dumps(d))
        assert p.returncode == 0, p.stderr
        wait_pods(ns_sts, "app.kubernetes.io/name=db", 1)
        switch(ns_sts, "enforce")
        p = cl.k("scale", "statefulset", "db", "-n", ns_sts, "--replicas=2")
        assert p.returncode == 0, p.stderr
        wait_pods(ns_sts, "app.kubernetes.io/name=db", 2)
        assert failed_creates(ns_sts) == [], failed_creates(ns_sts)

    ns_ds = "e2e-ctl-ds"

    def daemonset_admitted_without_nodes():
        namespace(ns_ds, "warn")
        d = json.loads(deployment("agent", ns_ds, liveness=False))
        d["kind"] = "DaemonSet"
        del d["spec"]["replicas"]
        p = cl.apply(json.dumps(d))
        assert p.returncode == 0 and "Warning: [liveness-probe]" in p.stderr, p.stderr
        switch(ns_ds, "enforce")
        p = cl.k("patch", "daemonset", "agent", "-n", ns_ds, "--type=merge", "-p",
                 json.dumps({"spec": {"template": {"metadata": {"annotations": {"rev": "2"}}}}}))
        assert p.returncode == 0, p.stderr
        assert "(already there before this update: allowed)" in p.stderr, p.stderr

        def observed():
            s = json.loads(cl.k("get", "daemonset", "agent", "-n", ns_ds, "-o", "json",
                                check=True).stdout)
            st = s.get("status", {})
            return st.get("observedGeneration") == s["metadata"]["generation"], st
        st = until(observed, 30, "the DaemonSet controller observes the update")
        # No Nodes: the controller schedules nothing, so no Pod is ever asked for.
        assert st.get("desiredNumberScheduled", 0) == 0, st
        assert pods(ns_ds, "app.kubernetes.io/name=agent") == []
        p = cl.apply(json.dumps(dict(d, metadata={"name": "agent2", "namespace": ns_ds})))
        assert p.returncode != 0 and "[liveness-probe]" in p.stderr, p.stderr

    ns_job = "e2e-ctl-job"

    def job_exemption_reaches_pods():
        namespace(ns_job, "enforce")
        job = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "migrate", "namespace": ns_job,
                            "annotations": {"plimsoll.dev/exempt": "image-tag",
                                            "plimsoll.dev/exempt-reason": "vendor image"}},
               "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                   {"name": "job", "image": "registry.example.com/migrate:latest"}]}}}}
        p = cl.apply(json.dumps(job))
        assert p.returncode == 0, p.stderr
        wait_pods(ns_job, "job-name=migrate", 1)
        assert '"suppressed":{"controller":["image-tag"]}' in pl.read_log()

    def cronjob_makes_jobs_and_pods():
        def job_with_pod():
            jobs = json.loads(cl.k("get", "jobs", "-n", ns_cron, "-o", "json", check=True).stdout)["items"]
            owned = [j for j in jobs if any(o.get("kind") == "CronJob"
                                            for o in j["metadata"].get("ownerReferences", []))]
            if not owned:
                return False, "no Job yet"
            name = owned[0]["metadata"]["name"]
            return len(pods(ns_cron, f"job-name={name}")) == 1, name
        until(job_with_pod, 100, "the CronJob controller's Job and its Pod")
        assert failed_creates(ns_cron) == [], failed_creates(ns_cron)

    def metrics_count_suppressions():
        _, text = pl.get("/metrics")
        for series in ('plimsoll_suppressed_violations_total{policy="liveness-probe",reason="controller"}',
                       'plimsoll_suppressed_violations_total{policy="liveness-probe",reason="exempt"}',
                       'plimsoll_suppressed_violations_total{policy="liveness-probe",reason="grandfathered"}'):
            line = [x for x in text.splitlines() if x.startswith(series + " ")]
            assert line and float(line[0].split()[-1]) >= 1, (series, line)

    ok = True
    for name, fn in [
            ("a CronJob exempted on its own metadata is admitted", cronjob_exemption_is_created),
            ("warn -> enforce: the grandfathered Deployment scales to 3 Pods", grandfathered_scale_up_creates_pods),
            ("a template patch of it rolls out: the new ReplicaSet has its Pods", template_patch_rolls_out),
            ("a Deployment exempted on its own metadata gets its 2 Pods", metadata_exemption_reaches_pods),
            ("a Pod with a forged ownerReference from an ordinary user is rejected", forged_owner_is_rejected),
            ("a grandfathered pod-security violation is rejected on the new Pod, saying why", grandfathered_pod_security_rejected_on_pods),
            ("warn -> enforce: a StatefulSet scales to 2 Pods", statefulset_scales),
            ("a DaemonSet is admitted and updated; with no Nodes it asks for no Pods", daemonset_admitted_without_nodes),
            ("a Job exempted on its own metadata gets its Pod", job_exemption_reaches_pods),
            ("the exempted CronJob's controller makes a Job, and that Job a Pod", cronjob_makes_jobs_and_pods),
            ("suppressed violations are counted by reason in /metrics", metrics_count_suppressions)]:
        ok = check(name, fn) and ok
    cl.k("delete", "validatingwebhookconfiguration", "plimsoll-e2e-controllers", "--ignore-not-found")
    for n in (ns, ns_psa, ns_sts, ns_ds, ns_job, ns_cron):
        cl.k("delete", "namespace", n, "--wait=false")
    pl.stop()
    if not ok:
        print("    plimsoll log tail:\n    " + pl.read_log()[-3000:].replace("\n", "\n    "))
