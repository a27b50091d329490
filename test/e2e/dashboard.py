# SPDX-License-Identifier: Apache-2.0
"""`plimsoll dashboard` end to end (issue 15), against the kit's API server:
workloads created with kubectl are shown with the same verdicts as `plimsoll
audit`; a new bad Deployment appears, a fixed one clears, a namespace
annotation change moves the counts, deleting a PodDisruptionBudget brings the
pod-disruption-budget warning of the Deployment it selected (but not "would be
rejected if enforced": admission does not run that policy) and creating it again
clears it, a deleted workload disappears, each within
a few seconds of kubectl returning; /metrics passes promtool; nothing secret
(env values, other annotations) leaves; it is read-only; SIGTERM exits 0 at
once; a dashboard whose RBAC leaves out budgets, autoscalers and NetworkPolicies is
ready all the same, runs the other policies and counts and logs the 403. Then the
page in a real browser (Debian's chromium through playwright-core,
test/e2e/page_check.js), JavaScript off: score, namespace rows, a violation with
its runbook link, the namespace filter; the screenshot is kept with the CI logs.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

from e2elib import ROOT, check, deployment, free_port, until, workload_reader_rbac

SECRET_VALUE = "s3cr3t-value-do-not-show"
OTHER_ANNOTATION = "example.com/owner-token"
NS_A, NS_B = "dash-a", "dash-b"


class Dashboard:
    def __init__(self, binary, work, kubeconfig, *extra):
        self.port = free_port()
        self.log_path = os.path.join(work, f"dashboard-{self.port}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([binary, "dashboard", "--listen", f"127.0.0.1:{self.port}",
                                      "--kubeconfig", kubeconfig, *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path, method="GET"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)
        except OSError:
            return 0, "", {}

    def json(self, path):
        status, body, _ = self.get(path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def workloads(self, ns):
        return {w["name"]: w for w in self.json(f"/api/v1/namespaces/{ns}/workloads")["workloads"]}

    def namespace(self, ns):
        return next(n for n in self.json("/api/v1/summary")["namespaces"] if n["name"] == ns)

    def stop(self):
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self.log.close()
        return code, time.time() - t0


def spotless(manifest):
    """A secure e2elib Deployment made to pass every default policy: the probed port
    declared, a read-only root filesystem, and its replicas spread over nodes."""
    d = json.loads(manifest)
    pod = d["spec"]["template"]["spec"]
    c = pod["containers"][0]
    c["ports"] = [{"containerPort": 8080}]
    c["lifecycle"] = {"preStop": {"httpGet": {"path": "/healthz", "port": 8080}}}
    c.setdefault("securityContext", {})["readOnlyRootFilesystem"] = True
    pod["topologySpreadConstraints"] = [{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": d["spec"]["selector"]["matchLabels"]}}]
    return json.dumps(d)


def budget(app, ns):
    """A PodDisruptionBudget (policy/v1beta1: the kit is Kubernetes 1.20) for app's pods:
    what a replicated Deployment needs to pass pod-disruption-budget."""
    return json.dumps({"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget",
                       "metadata": {"name": f"{app}-pdb", "namespace": ns},
                       "spec": {"maxUnavailable": 1,
                                "selector": {"matchLabels": {"app.kubernetes.io/name": app}}}})


def namespace(name, annotations):
    return json.dumps({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": name, "annotations": annotations,
                                    "labels": {"plimsoll.dev/skip": "true"}}})


def with_secret_env(manifest):
    d = json.loads(manifest)
    d["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "APP_MOTTO", "value": SECRET_VALUE}]
    return json.dumps(d)


def timed(fn, timeout, what):
    """Seconds until fn() holds (polling every 50 ms)."""
    t0 = time.time()
    until(lambda: (fn(), None), timeout, what)
    return time.time() - t0


def dashboard_scenarios(cl, binary, work):
    kubeconfig = os.path.join(cl.state, "kubeconfig")
    delays = {}
    for ns, ann in ((NS_A, {OTHER_ANNOTATION: "topsecret-annotation"}),
                    (NS_B, {"plimsoll.dev/mode": "warn"})):
        assert cl.apply(namespace(ns, ann)).returncode == 0
    cl.apply(spotless(deployment("good", NS_A, secure=True)))
    cl.apply(with_secret_env(deployment("bad", NS_A, liveness=False)))
    for app in ("good", "bad"):
        assert cl.apply(budget(app, NS_A)).returncode == 0
    d = Dashboard(binary, work, kubeconfig)

    def ready():
        until(lambda: (d.get("/readyz")[0] == 200, d.get("/readyz")), 30, "/readyz 200")
        assert d.get("/healthz")[0] == 200
        assert set(d.workloads(NS_A)) == {"good", "bad"}, d.workloads(NS_A)

    def same_verdicts_as_audit():
        p = subprocess.run([binary, "audit", "--kubeconfig", kubeconfig, "--output", "json",
                            "--namespace", NS_A, "--namespace", NS_B],
                           capture_output=True, text=True, timeout=60)
        # Budgets are judged by audit (pdb-allows-disruption), not shown by the dashboard.
        audited = {(r["namespace"], r["name"]): r for r in json.loads(p.stdout)["results"]
                   if r["kind"] != "PodDisruptionBudget"}
        shown = {(w["namespace"], w["name"]): w for ns in (NS_A, NS_B)
                 for w in d.workloads(ns).values()}
        assert set(audited) == set(shown), (sorted(audited), sorted(shown))
        strip = lambda vs: [{k: v for k, v in x.items() if k not in ("line", "column")}
                            for x in vs]
        for key, r in audited.items():
            assert shown[key]["status"] == r["status"], key
            assert shown[key]["violations"] == strip(r["violations"]), key
            assert shown[key]["suppressed"] == strip(r["suppressed"]), key
        a = d.namespace(NS_A)
        assert (a["workloads"], a["rejected"], a["would_reject_if_enforced"]) == (2, 1, 1), a
        assert a["score"] == 50 and a["modes"]["liveness-probe"] == "enforce", a

    def new_bad_deployment_appears():
        cl.apply(deployment("late", NS_B, liveness=False))
        delays["appears"] = timed(lambda: "late" in d.workloads(NS_B), 5, "late in dash-b")
        late = d.workloads(NS_B)["late"]
        assert late["status"] == "admitted" and late["would_reject_if_enforced"], late
        assert any(v["policy"] == "liveness-probe" and v["mode"] == "warn"
                   for v in late["violations"]), late
        assert d.namespace(NS_B)["would_reject_if_enforced"] == 1

    def annotation_change_moves_counts():
        cl.k("annotate", "namespace", NS_A, "plimsoll.dev/mode=warn", "--overwrite", check=True)
        delays["annotation"] = timed(lambda: d.namespace(NS_A)["rejected"] == 0, 5,
                                     "dash-a rejected 0 after warn")
        a = d.namespace(NS_A)
        assert a["modes"]["liveness-probe"] == "warn" and a["would_reject_if_enforced"] == 1, a
        cl.k("annotate", "namespace", NS_A, "plimsoll.dev/mode-", check=True)
        timed(lambda: d.namespace(NS_A)["rejected"] == 1, 5, "dash-a rejected 1 again")

    def fixed_deployment_clears():
        cl.apply(with_secret_env(spotless(deployment("bad", NS_A, secure=True))))
        delays["fixed"] = timed(lambda: d.workloads(NS_A)["bad"]["status"] == "admitted" and
                                not d.workloads(NS_A)["bad"]["would_reject_if_enforced"], 5,
                                "the fixed Deployment admitted")
        assert d.namespace(NS_A)["score"] == 100

    def new_budget_clears_the_warning():
        def warned():
            return any(v["policy"] == "pod-disruption-budget"
                       for v in d.workloads(NS_A)["good"]["violations"])
        assert not warned(), d.workloads(NS_A)["good"]  # 2 replicas and a budget
        cl.k("delete", "poddisruptionbudget", "good-pdb", "-n", NS_A, check=True)
        delays["budget deleted"] = timed(warned, 5, "good's budget warning")
        # ... but switching the namespace to enforce would not reject it: the policies that
        # need the neighbouring objects do not run at admission (the webhook is stateless).
        assert not d.workloads(NS_A)["good"]["would_reject_if_enforced"], d.workloads(NS_A)["good"]
        assert cl.apply(budget("good", NS_A)).returncode == 0
        delays["budget"] = timed(lambda: not warned(), 5, "good's budget warning cleared")
        assert not d.workloads(NS_A)["good"]["would_reject_if_enforced"]

    def deleted_workload_disappears():
        cl.k("delete", "deployment", "late", "-n", NS_B, check=True)
        delays["deleted"] = timed(lambda: "late" not in d.workloads(NS_B), 5, "late gone")
        assert d.namespace(NS_B)["workloads"] == 0

    def metrics_pass_promtool():
        status, text, headers = d.get("/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain"), headers
        line = f'plimsoll_dashboard_workloads{{namespace="{NS_A}",policy="liveness-probe",state="passing"}} 2'
        assert line in text, text[:2000]
        for needle in ("plimsoll_dashboard_ready 1", "plimsoll_dashboard_last_full_sync_timestamp_seconds ",
                       'plimsoll_dashboard_watch_errors_total{resource="deployments"} 0',
                       'plimsoll_dashboard_watch_errors_total{resource="poddisruptionbudgets"} 0',
                       'plimsoll_dashboard_watch_staleness_seconds{resource="networkpolicies"} ',
                       "process_resident_memory_bytes ",
                       f'plimsoll_dashboard_rejected_if_enforced{{namespace="{NS_A}"}} 0'):
            assert needle in text, needle
        promtool = shutil.which("promtool")
        if promtool:
            p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=30)
            assert p.returncode == 0, p.stdout + p.stderr

    def nothing_secret_and_read_only():
        for path in ("/", "/api/v1/summary", "/api/v1/workloads", "/metrics",
                     f"/api/v1/namespaces/{NS_A}/workloads"):
            body = d.get(path)[1]
            assert SECRET_VALUE not in body and "topsecret-annotation" not in body, path
            assert OTHER_ANNOTATION not in body, path
        assert d.get("/", method="POST")[0] == 405
        assert d.get("/api/v1/workloads", method="DELETE")[0] == 405
        assert d.get("/api/v1/workloads?policy=no-such-policy")[0] == 400
        assert d.get("/api/v1/namespaces/no-such-ns/workloads")[0] == 404
        assert d.get("/nope")[0] == 404
        headers = d.get("/")[2]
        assert "default-src 'none'" in headers.get("Content-Security-Policy", ""), headers

    def page_in_a_browser():
        cl.apply(deployment("bad2", NS_A, liveness=False))
        timed(lambda: "bad2" in d.workloads(NS_A), 5, "bad2 shown")
        node_path = subprocess.run([os.path.join(ROOT, "scripts", "get-playwright.sh")],
                                   capture_output=True, text=True, timeout=300)
        assert node_path.returncode == 0, node_path.stderr
        logs = os.environ.get("PLIMSOLL_E2E_LOGS", os.path.join(ROOT, "build-ci", "logs"))
        os.makedirs(logs, exist_ok=True)
        shot = os.path.join(logs, "dashboard.png")
        p = subprocess.run(["node", os.path.join(ROOT, "test", "e2e", "page_check.js"),
                            f"http://127.0.0.1:{d.port}/", NS_A, shot],
                           env={**os.environ, "NODE_PATH": node_path.stdout.strip()},
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr[-3000:]
        facts = json.loads(p.stdout)
        # Compared within dash-a: namespaces of earlier scenarios may still be going away,
        # which moves the cluster-wide figures between the page and the API call.
        summary = d.json(f"/api/v1/summary?namespace={NS_A}")
        before, after = facts["before"], facts["after"]
        assert after["score"] == str(summary["cluster"]["score"]), (after["score"], summary)
        rows = {r["name"]: r for r in before["namespaces"]}
        assert {NS_A, NS_B} <= set(rows), rows
        assert before["score"].isdigit() and 0 <= int(before["score"]) <= 100, before["score"]
        a = next(n for n in summary["namespaces"] if n["name"] == NS_A)
        assert rows[NS_A]["score"] == str(a["score"]), (rows[NS_A], a)
        assert rows[NS_A]["ifEnforced"] == str(a["would_reject_if_enforced"]) == "1"
        bad2 = next(w for w in before["workloads"] if w["name"] == "bad2")
        lp = next(v for v in bad2["violations"] if v["policy"] == "liveness-probe")
        assert lp["runbook"].endswith("/liveness-probe") and lp["runbookText"] == "runbook", lp
        assert lp["field"].startswith("spec.template.spec.containers[0]"), lp
        assert "livenessProbe" in lp["fix"], lp
        assert before["scripts"] == 0 and before["external"] == 0, before
        assert all(r.startswith(f"http://127.0.0.1:{d.port}/") for r in facts["requests"])
        assert f"namespace={NS_A}" in facts["filteredUrl"], facts["filteredUrl"]
        assert {r["name"] for r in after["namespaces"]} == {NS_A}, after["namespaces"]
        assert after["workloads"] and {w["namespace"] for w in after["workloads"]} == {NS_A}
        assert os.path.getsize(shot) > 10000, shot

    def forbidden_neighbours():
        # A dashboard that may read the workloads but not the budgets, autoscalers and
        # NetworkPolicies (RBAC without them): ready all the same, the four policies
        # that need those objects not run (rather than warn every Deployment for a
        # budget it cannot see), the other policies as ever, the 403 counted per
        # resource and logged, and SIGTERM still prompt while the lists retry.
        for manifest in workload_reader_rbac("e2e-dashboard-workloads", ["get", "list", "watch"]):
            assert cl.apply(manifest).returncode == 0
        reader = Dashboard(binary, work, os.path.join(cl.state, "kubeconfig-namespace-reader"))
        try:
            until(lambda: (reader.get("/readyz")[0] == 200, reader.get("/readyz")), 30,
                  "the workload reader's /readyz 200")
            shown = {w["name"]: w for w in reader.json(f"/api/v1/namespaces/{NS_A}/workloads")
                     ["workloads"]}
            assert {"good", "bad2"} <= set(shown), sorted(shown)
            found = {v["policy"] for w in shown.values() for v in w["violations"]}
            assert not found & {"pod-disruption-budget", "pdb-allows-disruption",
                                "hpa-replicas", "network-policy"}, found
            assert "liveness-probe" in found, found  # bad2: the other policies still run
            full = d.workloads(NS_A)
            assert shown["bad2"]["status"] == full["bad2"]["status"], (shown["bad2"], full["bad2"])

            def errors_counted():
                text = reader.get("/metrics")[1]
                m = re.search(r'^plimsoll_dashboard_watch_errors_total\{resource="poddisruptionbudgets"\} '
                              r'(\d+)$', text, re.M)
                return m and int(m.group(1)) >= 1, text[-1500:]
            until(errors_counted, 15, "the budgets' 403 counted")
            code, took = reader.stop()
            assert code == 0 and took < 5, (code, took)
            with open(reader.log_path) as f:
                log = f.read()
            assert "poddisruptionbudgets" in log and ("403" in log or "orbidden" in log), log[-2000:]
        finally:
            if reader.proc.poll() is None:
                reader.stop()
            cl.k("delete", "clusterrolebinding,clusterrole", "e2e-dashboard-workloads")

    def sigterm_is_prompt():
        code, took = d.stop()
        assert code == 0 and took < 5, (code, took)

    ok = check("dashboard: ready after the first lists", ready)
    if ok:
        check("dashboard: verdicts equal plimsoll audit's", same_verdicts_as_audit)
        check("dashboard: a deleted PodDisruptionBudget warns its workload, a new one clears it",
              new_budget_clears_the_warning)
        check("dashboard: a new bad Deployment appears", new_bad_deployment_appears)
        check("dashboard: a namespace annotation change moves the counts",
              annotation_change_moves_counts)
        check("dashboard: a fixed Deployment clears", fixed_deployment_clears)
        check("dashboard: a deleted workload disappears", deleted_workload_disappears)
        check("dashboard: /metrics (promtool check metrics)", metrics_pass_promtool)
        check("dashboard: every series and label the chart's dashboard alerts use is "
              "exposed, with its documented type", alert_series_are_real, d)
        check("dashboard: nothing secret leaves; read-only; bad filters refused",
              nothing_secret_and_read_only)
        check("dashboard: the page in chromium (JavaScript off): score, namespaces, runbook "
              "link, filter", page_in_a_browser)
        check("dashboard: budgets it may not list: ready, their policies not run, the 403 "
              "counted and logged", forbidden_neighbours)
        print(f"    change-to-verdict delays (s): "
              + ", ".join(f"{k} {v:.2f}" for k, v in delays.items()), flush=True)
    check("dashboard: SIGTERM exits 0 promptly", sigterm_is_prompt)
    if not ok:
        with open(d.log_path) as f:
            print("    dashboard log tail:\n    " + f.read()[-3000:].replace("\n", "\n    "))
    for ns in (NS_A, NS_B):
        cl.k("delete", "namespace", ns, "--wait=false")


# ---- The chart's dashboard alerts (issue 15) against the real /metrics. promtool's
# unit tests (test/prometheus/rules_test.yaml) feed the alerts series by name; this
# proves those names, types and labels are the ones the dashboard really exposes.
SCRAPE_LABELS = {"job", "namespace", "instance"}   # the target's, set by the scrape


def alert_series_are_real(d):
    import re    # here, not at the top: this block stays separate from the file's others
    import yaml
    helm = subprocess.run([os.path.join(ROOT, "scripts", "get-helm.sh")], capture_output=True,
                          text=True, timeout=300).stdout.strip()
    assert helm, "no helm (scripts/get-helm.sh)"
    p = subprocess.run([helm, "template", "plimsoll", os.path.join(ROOT, "charts", "plimsoll"),
                        "--set", "metrics.prometheusRule.enabled=true"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    exprs = [r["expr"] for doc in yaml.safe_load_all(p.stdout)
             if doc and doc["kind"] == "PrometheusRule"
             for g in doc["spec"]["groups"] for r in g["rules"]
             if r.get("alert", "").startswith("PlimsollDashboard")]
    assert len(exprs) >= 3, exprs
    with open(os.path.join(ROOT, "docs", "design", "dashboard.md")) as f:
        documented = dict(re.findall(r"^\| `(plimsoll_dashboard_\w+)` \| (\w+) \|", f.read(),
                                     re.M))
    text = d.get("/metrics")[1]
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    used = {}
    for e in exprs:
        for name, matchers in re.findall(r"\b([a-z_:][a-z0-9_:]*)\{([^}]*)\}", e):
            if name != "up":   # up is Prometheus's own, per target
                used.setdefault(name, set()).update(
                    (k, v) for k, op, v in re.findall(r'(\w+)\s*(=|!=|=~|!~)\s*"([^"]*)"', matchers)
                    if op == "=" and k not in SCRAPE_LABELS)
        # `by (exported_namespace)`: the dashboard's own namespace label, renamed by the scrape.
        for by, name in re.findall(r"by \(([^)]*)\) \((plimsoll_dashboard_\w+)\{", e):
            for lab in (x.strip() for x in by.split(",")):
                used[name].add((lab.removeprefix("exported_"), None))
    # The parse itself found what the alerts are known to use.
    assert {"plimsoll_dashboard_workloads", "plimsoll_dashboard_ready",
            "plimsoll_dashboard_watch_staleness_seconds"} <= set(used), used
    assert {("state", "failing"), ("namespace", None)} <= used["plimsoll_dashboard_workloads"]
    for name, labels in used.items():
        assert name in documented, (name, "not in docs/design/dashboard.md's metrics table")
        assert types.get(name) == documented[name], (name, types.get(name), documented[name])
        samples = re.findall(rf"^{name}(?:\{{([^}}]*)\}})? ", text, re.M)
        assert samples, (name, "no sample in /metrics")
        have = [dict(re.findall(r'(\w+)="([^"]*)"', s)) for s in samples]
        for k, v in labels:
            assert any(k in h and (v is None or h[k] == v) for h in have), (name, k, v, have[:3])
