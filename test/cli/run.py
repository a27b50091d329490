#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The plimsoll command line: exit codes, help, output formats, input forms.

Usage: run.py PLIMSOLL. Prints ok/not ok lines, ends with "N passed, N failed".
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import traceback
import xml.dom.minidom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sarif_check  # noqa: E402  (beside this file)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BAD = os.path.join(ROOT, "examples", "deployment-bad.yaml")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run(binary, *args, input=None, cwd=None):
    return subprocess.run([binary, *args], input=input, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


GOOD = """
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: shop, labels: {app.kubernetes.io/name: ok, plimsoll.dev/commit: abc1234}}
spec:
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/app:1.0.0
    livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    readinessProbe: {httpGet: {path: /ready, port: 8080}}
    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


@test
def exit_codes(b):
    assert run(b, "check", BAD).returncode == 1
    p = run(b, "check", "-", input=GOOD)
    assert p.returncode == 0, p.stdout + p.stderr
    assert run(b, "check", "/nonexistent.yaml").returncode == 2
    assert run(b, "check", "-", input="a: [").returncode == 2
    assert run(b, "check", "--output", "xml", BAD).returncode == 2
    assert run(b, "nosuchcommand").returncode == 2
    assert run(b).returncode == 2


@test
def help_for_every_command(b):
    for cmd in (["--help"], ["serve", "--help"], ["check", "--help"], ["certs", "--help"],
                ["certs", "generate", "--help"], ["policies", "--help"], ["version", "--help"]):
        p = run(b, *cmd)
        assert p.returncode == 0 and "Usage: plimsoll" in p.stdout, (cmd, p.stdout, p.stderr)
    p = run(b, "serve", "--help")
    for flag in ("--config", "--listen", "--tls-cert", "--tls-key", "--client-ca",
                 "--health-listen", "--kubeconfig", "--log-level", "--threads",
                 "PLIMSOLL_TLS_CERT"):
        assert flag in p.stdout, flag


@test
def version(b):
    p = run(b, "version")
    assert p.returncode == 0 and p.stdout.startswith("plimsoll ") and "commit" in p.stdout


@test
def policies_list(b):
    p = run(b, "policies", "--output", "json")
    data = json.loads(p.stdout)
    ids = [x["id"] for x in data if x.get("kind", "policy") == "policy"]
    for want in ("liveness-probe", "readiness-probe", "resources", "pod-security", "image-tag"):
        assert want in ids, ids
    assert all(x["default_mode"] in ("enforce", "warn", "off", "on") for x in data)
    text = run(b, "policies").stdout
    assert "liveness-probe" in text and "enforce" in text


@test
def text_output_is_like_a_compiler(b):
    """file:line:column: per object and per finding, at the finding's field."""
    p = run(b, "check", "examples/deployment-bad.yaml", cwd=ROOT)
    lines = p.stdout.splitlines()
    assert "examples/deployment-bad.yaml:1:1: Deployment shop/web: rejected" in lines, p.stdout
    assert ("examples/deployment-bad.yaml:15:9: error: [liveness-probe] "
            "spec.template.spec.containers[0] (web): no livenessProbe; a hung process is never "
            "restarted") in lines, p.stdout
    assert ("examples/deployment-bad.yaml:16:9: error: [image-tag] "
            "spec.template.spec.containers[0] (web).image: image \"nginx:latest\" uses the "
            "latest tag; pin a version tag or digest") in lines, p.stdout
    assert "examples/deployment-bad.yaml:7:3: warning: [replicas] spec.replicas: 1 replica; " \
        "ask for at least 2 so one lost pod is not an outage" in lines, p.stdout
    assert any(x.startswith("Runbooks: ") and "/liveness-probe" in x for x in lines), p.stdout
    assert lines[-1] == "1 objects: 0 skipped, 0 invalid, 1 rejected, 0 admitted with warnings", \
        lines[-1]


@test
def json_output(b):
    d = json.loads(run(b, "check", "--output", "json", BAD).stdout)
    assert d["summary"]["objects"] == 1 and d["summary"]["rejected"] == 1
    r = d["results"][0]
    assert r["kind"] == "Deployment" and r["allowed"] is False and r["file"] == BAD
    v = [x for x in r["violations"] if x["policy"] == "liveness-probe"][0]
    assert v["mode"] == "enforce" and v["runbook"].endswith("liveness-probe")


@test
def sarif_output(b):
    d = json.loads(run(b, "check", "--output", "sarif", BAD).stdout)
    assert d["version"] == "2.1.0"
    assert sarif_check.validate(d) == [], sarif_check.validate(d)
    run0 = d["runs"][0]
    assert run0["tool"]["driver"]["name"] == "plimsoll"
    rule_ids = {r["id"] for r in run0["tool"]["driver"]["rules"]}
    assert {"liveness-probe", "resources", "invalid-object"} <= rule_ids
    res = run0["results"]
    assert any(x["ruleId"] == "liveness-probe" and x["level"] == "error" for x in res), res
    assert any(x["ruleId"] == "replicas" and x["level"] == "warning" for x in res), res
    # An absolute path is made relative to the working directory (%SRCROOT%).
    cwd_uri = "file://" + os.getcwd().rstrip("/") + "/"
    assert run0["originalUriBaseIds"] == {"%SRCROOT%": {"uri": cwd_uri}}, run0["originalUriBaseIds"]
    loc = res[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {
        "uri": os.path.relpath(BAD), "uriBaseId": "%SRCROOT%"}, loc
    # --base-dir: relative to it instead.
    d = json.loads(run(b, "check", "--output", "sarif", "--base-dir",
                       os.path.join(ROOT, "examples"), BAD).stdout)
    loc = d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "deployment-bad.yaml", loc
    assert d["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == \
        "file://" + os.path.join(ROOT, "examples") + "/"


@test
def junit_output(b):
    out = run(b, "check", "--output", "junit", BAD, "-", input=GOOD).stdout
    doc = xml.dom.minidom.parseString(out)
    root = doc.documentElement
    assert root.tagName == "testsuites"
    suites = doc.getElementsByTagName("testsuite")
    assert [s.getAttribute("name") for s in suites] == [BAD, "stdin"], out
    bad = suites[0]
    cases = bad.getElementsByTagName("testcase")
    # one test case per policy that applied to the object
    assert bad.getAttribute("tests") == str(len(cases)) and len(cases) >= 10, out
    failing = [c for c in cases if c.getElementsByTagName("failure")]
    assert bad.getAttribute("failures") == str(len(failing)) == "5", out
    assert sorted(c.getAttribute("name") for c in failing) == \
        ["image-tag", "liveness-probe", "pod-security", "readiness-probe", "resources"]
    live = [c for c in failing if c.getAttribute("name") == "liveness-probe"][0]
    assert live.getAttribute("classname") == "Deployment shop/web"
    assert live.getAttribute("file") == BAD and live.getAttribute("line") == "15"
    failure = live.getElementsByTagName("failure")[0]
    assert failure.getAttribute("message").startswith(
        "spec.template.spec.containers[0] (web): no livenessProbe"), failure.toxml()
    assert f"{BAD}:15:9: spec.template.spec.containers[0] (web)" in failure.firstChild.data
    good = suites[1]
    assert good.getAttribute("failures") == "0" and int(good.getAttribute("tests")) >= 10, out
    assert int(root.getAttribute("tests")) == sum(int(s.getAttribute("tests")) for s in suites)
    assert root.getAttribute("failures") == "5"


EXEMPT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
  annotations: {plimsoll.dev/exempt: liveness-probe, plimsoll.dev/exempt-reason: queue worker}
spec:
  replicas: 2
  selector: {matchLabels: {app.kubernetes.io/name: worker}}
  template:
    metadata: {labels: {app.kubernetes.io/name: worker, plimsoll.dev/commit: abc1234}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: app
        image: registry.example.com/app:1.0.0
        readinessProbe: {exec: {command: [cat, /tmp/ready]}}
        resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""


@test
def exempted_findings_are_shown_as_suppressed(b):
    """An exempted Deployment is admitted, and every output says what was let through."""
    p = run(b, "check", "--output", "json", "-", input=EXEMPT)
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(p.stdout)["results"][0]
    assert r["allowed"] is True and r["violations"] == [], r
    assert [(x["policy"], x["mode"], x["suppression"]) for x in r["suppressed"]] == \
        [("liveness-probe", "enforce", "exempt")], r["suppressed"]
    assert r["suppressed"][0]["path"] == "spec.template.spec.containers[0] (app)"

    sarif = json.loads(run(b, "check", "--output", "sarif", "-", input=EXEMPT).stdout)
    res = sarif["runs"][0]["results"]
    assert len(res) == 1 and res[0]["ruleId"] == "liveness-probe", res
    assert res[0]["level"] == "error"
    assert res[0]["suppressions"] == [{"kind": "inSource", "justification":
                                       "exempted by the plimsoll.dev/exempt annotation"}], res

    assert res[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 17, res

    out = run(b, "check", "--output", "junit", "-", input=EXEMPT).stdout
    doc = xml.dom.minidom.parseString(out)
    assert doc.getElementsByTagName("failure") == []
    case = [c for c in doc.getElementsByTagName("testcase")
            if c.getAttribute("name") == "liveness-probe"][0]
    skipped = case.getElementsByTagName("skipped")[0].getAttribute("message")
    assert skipped.startswith("exempt (plimsoll.dev/exempt): spec.template.spec.containers[0] (app)"), out

    text = run(b, "check", "-", input=EXEMPT).stdout
    assert "stdin:17:9: note: [liveness-probe] spec.template.spec.containers[0] (app): " \
        "no livenessProbe; a hung process is never restarted (exempt)" in text, text

    # A clean object has an empty list, not a missing key.
    r = json.loads(run(b, "check", "--output", "json", "-", input=GOOD).stdout)["results"][0]
    assert r["suppressed"] == [] and "suppression" not in json.dumps(r["violations"])


@test
def controller_review_in_check(b):
    """An AdmissionReview from the ReplicaSet controller for an owned Pod: the Pod only
    warns, as in the cluster; the same review from an ordinary user is rejected."""
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "w-1", "namespace": "shop",
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                             "name": "w", "uid": "u", "controller": True}]},
           "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0.0"}]}}

    def review(user):
        return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                           "request": {"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                                       "operation": "CREATE", "namespace": "shop",
                                       "userInfo": {"username": user}, "object": pod}})
    cfg = "policies: {liveness-probe: {mode: enforce}, pod-security: {mode: off}}\n"
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(cfg)
        f.flush()
        p = run(b, "check", "--config", f.name, "--output", "json", "-",
                input=review("system:serviceaccount:kube-system:replicaset-controller"))
        assert p.returncode == 0, p.stdout + p.stderr
        r = json.loads(p.stdout)["results"][0]
        v = [x for x in r["violations"] if x["policy"] == "liveness-probe"][0]
        assert v["mode"] == "warn" and v["suppression"] == "controller", v
        p = run(b, "check", "--config", f.name, "-", input=review("alice"))
        assert p.returncode == 1, p.stdout


@test
def multi_document_list_and_namespace_annotations(b):
    stream = """
apiVersion: v1
kind: Namespace
metadata: {name: relaxed, annotations: {plimsoll.dev/mode: warn}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: a, namespace: relaxed}, spec: {containers: [{name: c, image: "x:1"}]}}
- {apiVersion: v1, kind: Pod, metadata: {name: b, namespace: strict}, spec: {containers: [{name: c, image: "x:1"}]}}
---
# an empty document and a comment are skipped
---
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "relaxed"}}
"""
    d = json.loads(run(b, "check", "--output", "json", "-", input=stream).stdout)
    by_name = {r["name"]: r for r in d["results"]}
    assert set(by_name) == {"relaxed", "a", "b", "cm"}, by_name.keys()
    assert by_name["a"]["allowed"] is True and by_name["a"]["warnings"], by_name["a"]
    assert by_name["b"]["allowed"] is False
    assert by_name["cm"]["evaluated"] is False
    p = run(b, "check", "--namespace-annotation", "plimsoll.dev/mode=off", "-", input=stream)
    assert p.returncode == 0, p.stdout
    assert run(b, "check", "--namespace-annotation", "novalue", BAD).returncode == 2


@test
def check_config_errors_name_key_and_line(b):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("policies:\n  resources:\n    mode: enforce\n    require: [requests.cpu, limit.memory]\n")
    try:
        p = run(b, "check", "--config", f.name, BAD)
        assert p.returncode == 2
        assert "policies.resources.require[1] (line 4)" in p.stderr, p.stderr
    finally:
        os.unlink(f.name)


@test
def certs_generate(b):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "nested", "dirs", "c")  # created like mkdir -p
        p = run(b, "certs", "generate", "--service", "plimsoll", "--namespace", "ops", "--out",
                out, "--days", "30", "--dns", "localhost", "--dns", "10.0.0.1")
        assert p.returncode == 0, p.stderr
        assert stat.S_IMODE(os.stat(os.path.join(out, "tls.key")).st_mode) == 0o600
        text = subprocess.run(["openssl", "x509", "-in", os.path.join(out, "tls.crt"), "-noout",
                               "-text"], capture_output=True, text=True).stdout
        for san in ("DNS:plimsoll.ops.svc", "DNS:plimsoll.ops.svc.cluster.local", "DNS:localhost",
                    "IP Address:10.0.0.1"):
            assert san in text, (san, text)
        assert "prime256v1" in text or "P-256" in text, text
        v = subprocess.run(["openssl", "verify", "-CAfile", os.path.join(out, "ca.crt"),
                            os.path.join(out, "tls.crt")], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
        for bad in (["--namespace", "ops", "--out", out],
                    ["--service", "a.b", "--namespace", "ops", "--out", out],
                    ["--service", "s", "--namespace", "ops", "--out", out, "--days", "0"],
                    ["--service", "s", "--namespace", "ops", "--out", out, "--dns", "bad name"]):
            assert run(b, "certs", "generate", *bad).returncode == 2, bad


def main():
    binary = os.path.abspath(sys.argv[1])
    passed = failed = 0
    for fn in TESTS:
        try:
            fn(binary)
            print(f"ok - {fn.__name__}")
            passed += 1
        except Exception:  # noqa: BLE001 - reported
            print(f"not ok - {fn.__name__}")
            print("    " + traceback.format_exc().replace("\n", "\n    "))
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed else 1


if __name__ == "__main__":
    sys.exit(main())
