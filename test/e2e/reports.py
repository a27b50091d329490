# SPDX-License-Identifier: Apache-2.0
"""`plimsoll dashboard --reports` end to end (issue 15): with the chart's copy of
the OpenReports CRD applied to the kit's API server, one Report per namespace
with failing or warned workloads; the API server accepts every Report (its
schema validates them: a wrong result value is refused); the results match the
dashboard's JSON; nothing is rewritten while nothing changes; a fix updates
the Report; a namespace with nothing left loses its Report; a stale Report of
plimsoll's in a clean namespace is removed at start.
"""
import json
import os
import subprocess
import time

from e2elib import ROOT, check, deployment, until
from dashboard import Dashboard, budget, spotless

NS_R, NS_CLEAN = "rep-a", "rep-clean"


def chart_crd():
    helm = subprocess.run([os.path.join(ROOT, "scripts", "get-helm.sh")], capture_output=True,
                          text=True, check=True).stdout.strip().splitlines()[-1]
    return subprocess.run([helm, "template", "plimsoll", os.path.join(ROOT, "charts", "plimsoll"),
                           "--set", "dashboard.reports.enabled=true",
                           "--set", "dashboard.reports.installCRD=true",
                           "--show-only", "templates/openreports-crd.yaml"],
                          capture_output=True, text=True, check=True).stdout


def report(cl, ns):
    p = cl.k("get", "reports.openreports.io", "plimsoll", "-n", ns, "-o", "json")
    return json.loads(p.stdout) if p.returncode == 0 else None


def expected_results(workloads):
    """(policy, kind, name, result) for every workload x policy the dashboard shows failing or warned."""
    out = set()
    for w in workloads:
        for v in w["violations"]:
            fail = v["mode"] == "enforce" and "suppression" not in v
            out.add((v["policy"], w["kind"], w["name"], "fail" if fail else "warn"))
    # A policy that both fails and warns on one workload is one "fail" result.
    return {r for r in out if r[3] == "fail" or (r[0], r[1], r[2], "fail") not in out}


def reports_scenarios(cl, binary, work):
    kubeconfig = os.path.join(cl.state, "kubeconfig")
    state = {}

    def crd_applied():
        p = cl.apply(chart_crd())
        assert p.returncode == 0, p.stderr
        until(lambda: (cl.k("get", "reports.openreports.io", "-A").returncode == 0, None), 30,
              "the Report CRD served")
        for ns in (NS_R, NS_CLEAN):
            assert cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": ns,
                                                     "labels": {"plimsoll.dev/skip": "true"}}})).returncode == 0
        cl.apply(deployment("bad", NS_R, liveness=False))
        cl.apply(spotless(deployment("good", NS_CLEAN, secure=True)))
        # Clean includes pod-disruption-budget: 2 replicas need a budget.
        assert cl.apply(budget("good", NS_CLEAN)).returncode == 0
        stale = {"apiVersion": "openreports.io/v1alpha1", "kind": "Report",
                 "metadata": {"name": "plimsoll", "namespace": NS_CLEAN,
                              "labels": {"app.kubernetes.io/managed-by": "plimsoll"}},
                 "source": "plimsoll", "summary": {"fail": 1},
                 "results": [{"policy": "liveness-probe", "result": "fail"}]}
        p = cl.apply(json.dumps(stale))
        assert p.returncode == 0, p.stderr

    def schema_refuses_a_bad_report():
        bad = {"apiVersion": "openreports.io/v1alpha1", "kind": "Report",
               "metadata": {"name": "not-plimsoll", "namespace": NS_R},
               "results": [{"policy": "x", "result": "sort-of"}]}
        p = cl.apply(json.dumps(bad))
        assert p.returncode != 0 and "result" in p.stderr, p.stderr

    def written_and_matching():
        d = state["d"] = Dashboard(binary, work, kubeconfig, "--reports",
                                   "--reports-interval-seconds", "1")
        until(lambda: (d.get("/readyz")[0] == 200, None), 30, "dashboard ready")
        rep = until(lambda: (report(cl, NS_R) is not None, report(cl, NS_R)), 15,
                    "the Report of rep-a")
        assert rep["source"] == "plimsoll", rep
        got = {(r["policy"], r["resources"][0]["kind"], r["resources"][0]["name"], r["result"])
               for r in rep["results"]}
        want = expected_results(d.json(f"/api/v1/namespaces/{NS_R}/workloads")["workloads"])
        assert got == want, (sorted(got ^ want))
        assert rep["summary"]["fail"] == sum(1 for r in got if r[3] == "fail"), rep["summary"]
        assert rep["summary"]["warn"] == sum(1 for r in got if r[3] == "warn"), rep["summary"]
        assert all(r["properties"]["runbook"].endswith(r["policy"]) for r in rep["results"])

    def stale_report_removed():
        until(lambda: (report(cl, NS_CLEAN) is None, None), 15, "the stale Report removed")

    def nothing_rewritten_while_nothing_changes():
        rv = report(cl, NS_R)["metadata"]["resourceVersion"]
        time.sleep(3.5)  # three intervals
        assert report(cl, NS_R)["metadata"]["resourceVersion"] == rv

    def a_fix_updates_the_report():
        # Fixed but for one replica: only the replicas policy warns.
        p = cl.apply(spotless(deployment("bad", NS_R, secure=True, replicas=1)))
        assert p.returncode == 0, p.stderr

        def only_replicas():
            rep = report(cl, NS_R)
            got = {(r["policy"], r["result"]) for r in rep["results"]} if rep else None
            return got == {("replicas", "warn")}, got
        until(only_replicas, 15, "rep-a's Report with only the replicas warning")
        assert report(cl, NS_R)["summary"]["fail"] == 0

    def empty_namespace_loses_its_report():
        cl.k("delete", "deployment", "bad", "-n", NS_R, check=True)
        until(lambda: (report(cl, NS_R) is None, None), 15, "rep-a's Report removed")

    if not check("reports: the chart's OpenReports CRD applies; workloads created", crd_applied):
        return
    check("reports: the API server's schema refuses a Report with a wrong result",
          schema_refuses_a_bad_report)
    if check("reports: one Report per namespace, accepted, matching the dashboard's JSON",
             written_and_matching):
        check("reports: a stale Report of plimsoll's in a clean namespace is removed",
              stale_report_removed)
        check("reports: nothing is rewritten while nothing changes",
              nothing_rewritten_while_nothing_changes)
        check("reports: a fix updates the Report", a_fix_updates_the_report)
        check("reports: a namespace with nothing to report loses its Report",
              empty_namespace_loses_its_report)
    if "d" in state:
        code, took = state["d"].stop()
        check("reports: SIGTERM exits 0 promptly", lambda: None if code == 0 and took < 5
              else (_ for _ in ()).throw(AssertionError((code, took))))
    for ns in (NS_R, NS_CLEAN):
        cl.k("delete", "namespace", ns, "--wait=false")
