#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The plimsoll command line: exit codes, help, output formats, input forms.

Usage: run.py PLIMSOLL. Prints ok/not ok lines, ends with "N passed, N failed".
"""
import json
import os
import re
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
    for cmd in (["--help"], ["serve", "--help"], ["check", "--help"], ["audit", "--help"], ["certs", "--help"],
                ["certs", "generate", "--help"], ["policies", "--help"], ["version", "--help"]):
        p = run(b, *cmd)
        assert p.returncode == 0 and "Usage: plimsoll" in p.stdout, (cmd, p.stdout, p.stderr)
    p = run(b, "serve", "--help")
    for flag in ("--config", "--listen", "--tls-cert", "--tls-key", "--client-ca",
                 "--health-listen", "--kubeconfig", "--log-level", "--threads",
                 "PLIMSOLL_TLS_CERT"):
        assert flag in p.stdout, flag
    p = run(b, "dashboard", "--help")
    assert p.returncode == 0 and "Usage: plimsoll dashboard" in p.stdout, p.stdout
    for flag in ("--listen VALUE", "--kubeconfig", "--config", "--log-level", "--reports ",
                 "--reports-interval-seconds", "PLIMSOLL_DASHBOARD_REPORTS_INTERVAL_SECONDS",
                 "(default 0.0.0.0:8080)"):
        assert flag in p.stdout, flag


@test
def long_running_options_from_the_environment(b):
    # serve and dashboard read every option from PLIMSOLL_[DASHBOARD_]<NAME> too; the
    # command line wins; a bad value is named with its option whichever way it came.
    env = dict(os.environ, PLIMSOLL_DASHBOARD_LOG_LEVEL="bogus")
    p = subprocess.run([b, "dashboard"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--log-level must be debug, info, warn or error" in p.stderr, p
    p = subprocess.run([b, "dashboard", "--log-level", "info", "--kubeconfig", "/nonexistent"],
                       env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--log-level" not in p.stderr, p
    assert "/nonexistent" in p.stderr, p.stderr
    env = dict(os.environ, PLIMSOLL_DASHBOARD_REPORTS_INTERVAL_SECONDS="0")
    p = subprocess.run([b, "dashboard"], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--reports-interval-seconds must be a number from 1 to 3600" \
        in p.stderr, p.stderr
    p = run(b, "dashboard", "stray")
    assert p.returncode == 2 and 'unexpected argument "stray"' in p.stderr, p.stderr
    p = run(b, "serve", "--tls-cert", "c", "--tls-key", "k", "--drain-seconds", "x")
    assert p.returncode == 2 and "--drain-seconds must be a number from 0 to 3600" in p.stderr


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


def _md_cells(line):
    """The cells of a Markdown table row: backticks, escaped pipes and links undone."""
    cells = [c.strip() for c in line.strip().strip("|").replace("\\|", "\0").split("|")]
    return [re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", c.replace("\0", "|").replace("`", ""))
            for c in cells]


def _md_section(md, heading):
    """The lines of the section under heading (up to the next heading of its level)."""
    out, inside = [], False
    for line in md.splitlines():
        if line.startswith("## "):
            inside = line.strip() == heading
            continue
        if inside:
            out.append(line)
    return out


def _md_table(lines):
    """The body rows of the first Markdown table in lines, as cell lists."""
    rows = [_md_cells(x) for x in lines if x.startswith("|")]
    return rows[2:]  # header and separator


def _default_items(default):
    """The items of a list default as `plimsoll policies` renders it ("[a, b]")."""
    if default.startswith("[") and default.endswith("]") and len(default) > 2:
        return default[1:-1].split(", ")
    return [default]


@test
def docs_agree_with_the_table(b):
    """`plimsoll policies` (read from the descriptors, where every fact is written once),
    the runbooks' headers and parameter tables, the README's lists and
    docs/design/configuration.md say the same thing, so the docs cannot drift."""
    entries = json.loads(run(b, "policies", "--output", "json").stdout)
    readme = open(os.path.join(ROOT, "README.md")).read()
    readme_rows = {r[0]: r for r in _md_table(_md_section(readme, "## Policies"))}
    readme_rows.update({r[0]: r for r in _md_table(_md_section(readme, "## Mutations"))})
    for e in entries:
        rid, params = e["id"], e["parameters"]
        md = open(os.path.join(ROOT, "docs", "policies", rid + ".md")).read()
        head = " ".join(md.splitlines()[:6])
        if e["kind"] == "policy":
            assert f"**Default mode:** {e['default_mode']}" in head, (rid, head)
        else:
            assert f"**Default:** {e['default_mode']}" in head, (rid, head)
        assert rid in readme_rows, f"README lists no {rid}"
        assert readme_rows[rid][-1] == e["default_mode"], (rid, readme_rows[rid])
        if e["kind"] == "policy":
            # Where it runs: a policy that needs the neighbouring objects is not run at
            # admission, and its runbook header and README row say so.
            only_offline = "admission" not in e["runs"]
            assert ("**Runs:** check and audit only" in head) == only_offline, (rid, head)
            assert ("(check and audit only)" in readme_rows[rid][1]) == only_offline, \
                (rid, readme_rows[rid])
        table = _md_table(_md_section(md, "## Parameters"))
        if not params:
            assert "**Parameters:** none" in head, (rid, head)
            assert not table, f"{rid} takes no parameters but its runbook lists {table}"
            continue
        for q in params:
            assert f"`{q['name']}`" in head, (rid, q["name"], head)
        assert [r[0] for r in table] == [q["name"] for q in params], (rid, table)
        for row, q in zip(table, params):
            assert row[1].startswith(q["type"]), (rid, q["name"], row[1], q["type"])
            if len(q["default"]) <= 60:
                assert row[2].startswith(q["default"]), (rid, q["name"], row[2], q["default"])
            else:  # a long default is shown in the runbook's text: every item of it
                for item in _default_items(q["default"]):
                    assert item in md or item.replace("|", "\\|") in md, (rid, item)
    conf = open(os.path.join(ROOT, "docs", "design", "configuration.md")).read()
    rows = {r[0]: r for r in _md_table(conf.splitlines())}
    policies = [e for e in entries if e["kind"] == "policy"]
    never = sorted(e["id"] for e in policies if not e["exemptible"])
    said = sorted(rows["exemptions.allow"][2].replace("every policy except", "").replace(
        ",", " ").split())
    assert said == never, ("exemptions.allow default", said, never)
    every_pod = "[" + ", ".join(e["id"] for e in policies if e["enforce_on_pods"]) + "]"
    assert rows["controllers.enforce-on-pods"][2] == every_pod, rows["controllers.enforce-on-pods"]


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
        securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]},
                          readOnlyRootFilesystem: true}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway,
         labelSelector: {matchLabels: {app.kubernetes.io/name: worker}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: worker, namespace: shop}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app.kubernetes.io/name: worker}}
"""


NEIGHBOUR_DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, track: stable}}
    spec:
      containers: [{name: web, image: "registry.example.com/web:1"}]
"""

NEIGHBOUR_PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  selector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
  maxUnavailable: 0
"""


@test
def neighbours_are_the_documents_of_the_run(b):
    """The policies that need the neighbouring objects see every document of the run,
    across files; a PodDisruptionBudget is judged at its own line; `plimsoll policies`
    says these policies run in check and audit only."""
    with tempfile.TemporaryDirectory() as d:
        dep, pdb, cfg = (os.path.join(d, n) for n in ("dep.yaml", "pdb.yaml", "cfg.yaml"))
        with open(dep, "w") as f:
            f.write(NEIGHBOUR_DEPLOYMENT)
        with open(pdb, "w") as f:
            f.write(NEIGHBOUR_PDB)
        ids = [e["id"] for e in json.loads(run(b, "policies", "--output", "json").stdout)
               if e["kind"] == "policy"]
        with open(cfg, "w") as f:
            f.write("policies:\n" + "".join(
                f"  {i}: {{mode: {'enforce' if 'disruption' in i else 'off'}}}\n" for i in ids))
        alone = run(b, "check", "--config", cfg, dep)
        assert alone.returncode == 1, alone.stdout + alone.stderr
        assert (f"{dep}:8:16: error: [pod-disruption-budget] spec.template.metadata.labels: no "
                "PodDisruptionBudget in namespace shop selects these pods; a node drain may "
                "evict every replica at once") in alone.stdout.splitlines(), alone.stdout
        both = run(b, "check", "--config", cfg, dep, pdb)
        lines = both.stdout.splitlines()
        assert both.returncode == 1, both.stdout + both.stderr
        assert f"{dep}:1:1: Deployment shop/web: admitted" in lines, both.stdout
        assert f"{pdb}:1:1: PodDisruptionBudget shop/web: rejected" in lines, both.stdout
        assert (f"{pdb}:6:3: error: [pdb-allows-disruption] spec.maxUnavailable: "
                "maxUnavailable is 0; no pod may be evicted, so every node drain blocks") in lines
        # Other kinds no policy judges are still skipped, and say why.
        with open(pdb, "w") as f:
            f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n")
        r = json.loads(run(b, "check", "--config", cfg, "--output", "json", pdb).stdout)
        assert r["results"][0]["status"] == "skipped", r
    entries = {e["id"]: e for e in json.loads(run(b, "policies", "--output", "json").stdout)}
    for rid in ("pod-disruption-budget", "pdb-allows-disruption", "hpa-replicas",
                "network-policy"):
        assert entries[rid]["runs"] == ["check", "audit"], entries[rid]
    assert entries["liveness-probe"]["runs"] == ["admission", "check", "audit"]
    assert entries["pdb-allows-disruption"]["kinds"] == ["PodDisruptionBudget"]
    text = run(b, "policies").stdout
    assert "runs in check and audit only" in text.split("network-policy", 1)[1].split("\n")[1]


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
def empty_config_is_refused(b):
    """A configuration without a document (empty, `~`, comments only) is an error,
    not the built-in defaults: a ConfigMap truncated by mistake must not silently
    change every policy. `{}` is the way to ask for the defaults."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "config.yaml")
        for text in ("", "~\n", "# only a comment\n# and another\n", "---\n...\n"):
            with open(path, "w") as f:
                f.write(text)
            p = run(b, "check", "--config", path, "-", input=GOOD)
            assert p.returncode == 2, (text, p.returncode, p.stdout, p.stderr)
            assert "the configuration is empty" in p.stderr, (text, p.stderr)
            # serve refuses it at start-up, before it looks at the certificates
            p = run(b, "serve", "--config", path, "--tls-cert", os.path.join(d, "none.crt"),
                    "--tls-key", os.path.join(d, "none.key"), "--listen", "127.0.0.1:0",
                    "--health-listen", "127.0.0.1:0")
            assert p.returncode == 2, (text, p.returncode, p.stdout, p.stderr)
            assert "invalid configuration" in p.stdout + p.stderr, (text, p.stdout, p.stderr)
            assert "the configuration is empty" in p.stdout + p.stderr, (text, p.stdout)
        with open(path, "w") as f:
            f.write("{}\n")
        p = run(b, "check", "--config", path, "-", input=GOOD)
        assert p.returncode == 0, p.stdout + p.stderr


@test
def backtracking_tag_pattern_is_refused(b):
    """A tag-pattern that backtracks without end fails the load with its key and line."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "config.yaml")
        with open(path, "w") as f:
            f.write("mutations:\n  inject-commit:\n    tag-patterns:\n"
                    "      - '^(?P<commit>(a+)+)$'\n")
        p = run(b, "check", "--config", path, "-", input=GOOD)
        assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
        assert "mutations.inject-commit.tag-patterns[0] (line 4): backtracks too much" in \
            p.stderr, p.stderr


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


@test
def certs_generate_reusing_a_ca(b):
    """--write-ca-key keeps the CA's key; --ca-cert/--ca-key renew only the serving
    certificate, so the caBundle the API server holds (ca.crt) stays the same and
    still verifies it. A CA that cannot serve is refused with a reason."""
    with tempfile.TemporaryDirectory() as d:
        first, renewed = os.path.join(d, "first"), os.path.join(d, "renewed")
        base = ["certs", "generate", "--service", "plimsoll", "--namespace", "ops"]
        p = run(b, *base, "--out", first, "--write-ca-key")
        assert p.returncode == 0, p.stderr
        assert "ca.key" in p.stdout, p.stdout
        ca_crt, ca_key = os.path.join(first, "ca.crt"), os.path.join(first, "ca.key")
        assert stat.S_IMODE(os.stat(ca_key).st_mode) == 0o600
        p = run(b, *base, "--out", renewed, "--ca-cert", ca_crt, "--ca-key", ca_key,
                "--days", "30")
        assert p.returncode == 0, p.stderr
        assert not os.path.exists(os.path.join(renewed, "ca.key"))
        with open(ca_crt) as f1, open(os.path.join(renewed, "ca.crt")) as f2:
            assert f1.read() == f2.read(), "ca.crt must be the reused CA"
        with open(os.path.join(first, "tls.crt")) as f1, \
                open(os.path.join(renewed, "tls.crt")) as f2:
            assert f1.read() != f2.read(), "the serving certificate must be new"
        v = subprocess.run(["openssl", "verify", "-CAfile", ca_crt,
                            os.path.join(renewed, "tls.crt")], capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
        # Without --write-ca-key no CA key is left behind.
        p = run(b, *base, "--out", os.path.join(d, "plain"))
        assert p.returncode == 0 and not os.path.exists(os.path.join(d, "plain", "ca.key"))
        out = os.path.join(d, "bad")
        for bad, says in (
                (["--ca-cert", ca_crt], "--ca-cert and --ca-key go together"),
                (["--ca-cert", ca_crt, "--ca-key", os.path.join(first, "tls.key")],
                 "is not the key of the CA"),
                (["--ca-cert", os.path.join(first, "tls.crt"), "--ca-key", ca_key],
                 "is not a CA certificate"),
                (["--ca-cert", ca_crt, "--ca-key", ca_key, "--days", "400"],
                 "expires before a certificate valid for 400 days"),
                (["--ca-cert", ca_crt, "--ca-key", ca_key, "--write-ca-key"],
                 "only a new CA's key is written"),
                (["--ca-cert", "/etc/hostname", "--ca-key", ca_key], "holds no PEM certificate")):
            p = run(b, *base, "--out", out, *bad)
            assert p.returncode == 2 and says in p.stderr, (bad, p.returncode, p.stderr)
        assert not os.path.exists(os.path.join(out, "tls.crt"))


# ---------------------------------------------------------------- issue 16: check in pipelines

def check_json(b, *args, input=None, cwd=None, want=(0, 1)):
    p = run(b, "check", "--output", "json", *args, input=input, cwd=cwd)
    assert p.returncode in want, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout)


def where(results):
    """(kind, name, line) of each object and (policy, path, line) of each finding."""
    objs = [(r["kind"], r["name"], r["line"]) for r in results]
    found = {(r["name"], v["policy"], v["path"]): v["line"]
             for r in results for v in r["violations"] + r["suppressed"]}
    return objs, found


def sarif_ok(text):
    d = json.loads(text)
    problems = sarif_check.validate(d)
    assert problems == [], problems
    schema = sarif_check.schema_problems(d)
    assert schema is None or schema == [], schema
    return d


def pod(name, ns=None, indent=""):
    meta = f"{{name: {name}" + (f", namespace: {ns}" if ns else "") + "}"
    return (f"{indent}apiVersion: v1\n{indent}kind: Pod\n{indent}metadata: {meta}\n"
            f"{indent}spec:\n{indent}  containers:\n{indent}  - name: app\n"
            f"{indent}    image: nginx:latest\n")


@test
def sarif_and_junit_for_every_example(b):
    """Every example passes the code-scanning validator (and the schema when jsonschema is
    there), every result points at a line of its file, and JUnit parses into its shape."""
    examples = sorted(os.path.join("examples", f) for f in os.listdir(os.path.join(ROOT, "examples"))
                      if f.endswith((".yaml", ".json")))
    assert examples, "no examples"
    for ex in examples:
        p = run(b, "check", "--output", "sarif", ex, cwd=ROOT)
        assert p.returncode in (0, 1), (ex, p.stderr)
        d = sarif_ok(p.stdout)
        with open(os.path.join(ROOT, ex), encoding="utf-8") as f:
            n_lines = len(f.read().splitlines())
        for res in d["runs"][0]["results"]:
            loc = res["locations"][0]["physicalLocation"]
            assert loc["artifactLocation"] == {"uri": ex, "uriBaseId": "%SRCROOT%"}, loc
            assert 1 <= loc["region"]["startLine"] <= n_lines, loc
            assert res["partialFingerprints"]["plimsollFinding/v1"], res
        rules = {r["id"]: r for r in d["runs"][0]["tool"]["driver"]["rules"]}
        for r in rules.values():
            assert r["helpUri"].startswith("http") and r["fullDescription"]["text"], r
        assert rules["liveness-probe"]["helpUri"] == "https://plimsoll.dev/runbooks/liveness-probe"
        junit = run(b, "check", "--output", "junit", ex, cwd=ROOT).stdout
        doc = xml.dom.minidom.parseString(junit)
        for case in doc.getElementsByTagName("testcase"):
            assert case.getAttribute("name") and case.getAttribute("classname"), case.toxml()
            assert case.getAttribute("file") == ex and int(case.getAttribute("line")) >= 1
            for f in case.getElementsByTagName("failure"):
                assert f.getAttribute("message") and f"{ex}:" in f.firstChild.data, f.toxml()
    # The structural golden of deployment-bad.yaml: rule, level, line, column of each result.
    d = sarif_ok(run(b, "check", "--output", "sarif", "examples/deployment-bad.yaml", cwd=ROOT).stdout)
    got = sorted((r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                  r["locations"][0]["physicalLocation"]["region"]["startColumn"])
                 for r in d["runs"][0]["results"])
    assert got == sorted([
        ("commit-labels", "warning", 12, 7), ("graceful-shutdown", "warning", 15, 9),
        ("image-tag", "error", 16, 9), ("liveness-probe", "error", 15, 9),
        ("pod-security", "error", 15, 9), ("pod-security", "error", 15, 9),
        ("pod-security", "error", 15, 9), ("pod-security", "error", 15, 9),
        ("read-only-root-filesystem", "warning", 15, 9),
        ("readiness-probe", "error", 15, 9), ("replicas", "warning", 7, 3),
        ("resources", "error", 15, 9)]), got


@test
def sarif_validator_catches_what_code_scanning_refuses(b):
    """The validator itself fails on each broken property (so that it can fail)."""
    good = json.loads(run(b, "check", "--output", "sarif", "examples/deployment-bad.yaml",
                          cwd=ROOT).stdout)
    assert sarif_check.validate(good) == []
    breakers = [
        lambda d: d.update(version="2.0.0"),
        lambda d: d["runs"][0]["tool"]["driver"].pop("name"),
        lambda d: d["runs"][0]["results"][0].update(ruleId="no-such-rule"),
        lambda d: d["runs"][0]["results"][0]["message"].pop("text"),
        lambda d: d["runs"][0]["results"][0].update(level="fatal"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        .update(uri="/abs/path.yaml"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        .update(uri="file:///abs/path.yaml"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"].pop("region"),
        lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
        .update(startLine=0),
        lambda d: d["runs"][0]["results"][0].update(suppressions=[{"kind": "manual"}]),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].pop("helpUri"),
        lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].pop("fullDescription"),
    ]
    for i, breaker in enumerate(breakers):
        d = json.loads(json.dumps(good))
        breaker(d)
        assert sarif_check.validate(d), f"validator missed breaker {i}"
        schema = sarif_check.schema_problems(d)
        if schema is not None and i not in (2, 5, 6):  # not for a schema: rule ids, relative
            assert schema, f"schema missed breaker {i}"


UPDATE_REVIEW = {
    "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
    "request": {"uid": "1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "operation": "UPDATE", "namespace": "shop", "userInfo": {"username": "alice"},
                "object": None, "oldObject": None}}


@test
def suppressions_in_sarif(b):
    """Exempt findings are inSource suppressions, grandfathered ones external."""
    import copy
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "w", "namespace": "shop"},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}},
                                 "spec": {"containers": [{"name": "app", "image": "r/app:1"}]}}}}
    review = copy.deepcopy(UPDATE_REVIEW)
    review["request"]["object"] = dep
    review["request"]["oldObject"] = copy.deepcopy(dep)
    text = json.dumps(review, indent=2)
    d = sarif_ok(run(b, "check", "--output", "sarif", "-", input=text).stdout)
    res = d["runs"][0]["results"]
    grand = [r for r in res if r["ruleId"] == "liveness-probe"]
    assert grand and grand[0]["suppressions"][0]["kind"] == "external", grand
    assert "grandfathered" in grand[0]["suppressions"][0]["justification"]
    # lines point into request.object, not oldObject
    line = grand[0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    lines = text.splitlines()
    assert '"name": "app"' in lines[line - 1] or '"containers"' in lines[line - 1] or \
        "{" in lines[line - 1], (line, lines[line - 1])
    assert line < text.index('"oldObject"') and line < len(text[:text.index('"oldObject"')].splitlines())
    d = sarif_ok(run(b, "check", "--output", "sarif", "-", input=EXEMPT).stdout)
    assert [s["kind"] for r in d["runs"][0]["results"] for s in r.get("suppressions", [])] == \
        ["inSource"]


@test
def lines_in_multi_document_files_lists_and_typed_lists(b):
    stream = ("# a comment\n" + pod("one", "shop") + "---\n" + pod("two", "shop") +
              "---\napiVersion: v1\nkind: List\nitems:\n" + pod("three", "shop", "  ").replace("  apiVersion", "- apiVersion", 1) +
              "---\napiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: four, namespace: shop}\n"
              "  spec:\n    containers:\n    - name: app\n      image: nginx:latest\n")
    lines = stream.splitlines()
    d = check_json(b, "-", input=stream)
    objs, found = where(d["results"])
    assert [(k, n) for k, n, _ in objs] == [("Pod", "one"), ("Pod", "two"), ("Pod", "three"),
                                            ("Pod", "four")], objs
    for kind, name, line in objs:
        assert f"name: {name}" in lines[line - 1] or lines[line - 1].strip().startswith(
            ("apiVersion", "- apiVersion", "- metadata")), (name, line, lines[line - 1])
    assert [line for _, _, line in objs] == [2, 10, 21, 32], objs
    assert [r["column"] for r in d["results"]] == [1, 1, 3, 3], d["results"]
    # a finding at a field is on the field's line; one at a container on the container's
    for name in ("one", "two", "three", "four"):
        img = found[(name, "image-tag", "spec.containers[0] (app).image")]
        assert "image: nginx:latest" in lines[img - 1], (name, img, lines[img - 1])
        live = found[(name, "liveness-probe", "spec.containers[0] (app)")]
        assert "- name: app" in lines[live - 1], (name, live, lines[live - 1])
    # the same lines in text and SARIF
    text = run(b, "check", "-", input=stream).stdout
    assert f"stdin:{found[('four', 'image-tag', 'spec.containers[0] (app).image')]}:7: error: [image-tag]" \
        in text, text
    sarif = sarif_ok(run(b, "check", "--output", "sarif", "--stdin-name", "deploy/all.yaml", "-",
                         input=stream).stdout)
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]}
    assert uris == {"deploy/all.yaml"}, uris


@test
def lines_in_helm_rendered_input(b):
    """helm template charts/plimsoll | plimsoll check: every object and finding on its line."""
    helm = subprocess.run([os.path.join(ROOT, "scripts", "get-helm.sh")], capture_output=True,
                          text=True, timeout=600).stdout.strip()
    assert helm and os.access(helm, os.X_OK), "scripts/get-helm.sh gave no helm"
    rendered = subprocess.run([helm, "template", "rel", os.path.join(ROOT, "charts", "plimsoll"),
                               "--namespace", "ops"], capture_output=True, text=True,
                              timeout=120, check=True).stdout
    lines = rendered.splitlines()
    # Every policy on in enforce mode, so that findings exist; objects without a namespace
    # (helm leaves some out) take --namespace.
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as cfg:
        cfg.write("policies: {replicas: {mode: enforce, min: 5}, required-labels: "
                  "{mode: enforce, labels: [team]}}\n")
        cfg.flush()
        d = check_json(b, "--config", cfg.name, "--namespace", "ops", "-", input=rendered)
        sarif = sarif_ok(run(b, "check", "--config", cfg.name, "--output", "sarif", "-",
                             input=rendered).stdout)
    kinds = {r["kind"] for r in d["results"]}
    assert "Deployment" in kinds and "Service" in kinds, kinds
    for r in d["results"]:
        assert r["namespace"] in ("ops", ""), r
        line = lines[r["line"] - 1]
        # the object starts at its first key, after the "# Source:" comment
        assert line.startswith(("apiVersion:", "kind:", "metadata:")), (r["kind"], r["line"], line)
        assert lines[r["line"] - 2].startswith(("# Source:", "---")), (r["kind"], lines[r["line"] - 2])
        if r["kind"] in ("Service", "ServiceAccount", "ConfigMap", "Secret"):
            assert r["status"] == "skipped" and r["reason"], r
    # The webhook's Deployment (the dashboard's exempts replicas: one replica is its design).
    dep = [r for r in d["results"] if r["kind"] == "Deployment"
           and not r["name"].endswith("-dashboard")][0]
    reps = [v for v in dep["violations"] if v["policy"] == "replicas"][0]
    assert lines[reps["line"] - 1].strip().startswith("replicas:"), lines[reps["line"] - 1]
    team = [v for v in dep["violations"] if v["policy"] == "required-labels"][0]
    assert lines[team["line"] - 1].strip().startswith("labels:"), lines[team["line"] - 1]
    lines_sarif = {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
                   for r in sarif["runs"][0]["results"]}
    assert ("replicas", reps["line"]) in lines_sarif, lines_sarif


NOT_K8S = [
    ('{"a": 1}\n', "stdin:1: not a Kubernetes object: it has no apiVersion and kind"),
    ("just a string\n", "stdin:1: not a Kubernetes object: expected a mapping"),
    ("- a\n- b\n", "stdin:1: not a Kubernetes object: expected a mapping"),
    ("kind: Pod\nmetadata: {name: x}\n", "stdin:1: not a Kubernetes object: it has no apiVersion"),
    ("apiVersion: v1\nkind: 3\n", "stdin:1: not a Kubernetes object: it has no kind (they must be strings)"),
    (pod("ok") + "---\napiVersion: v1\nmetadata: {name: x}\n",
     "stdin:9: not a Kubernetes object: it has no kind"),
    ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n"
     "- {metadata: {name: b}}\n", "stdin:5: not a Kubernetes object: it has no apiVersion and kind"),
    ("apiVersion: v1\nkind: List\nitems: oops\n", "stdin:1: List: items must be a list"),
    ("a: [\n", "stdin:2: invalid YAML"),
]


@test
def bad_input_is_never_admitted(b):
    for text, message in NOT_K8S:
        for output in ("text", "json", "sarif", "junit"):
            p = run(b, "check", "--output", output, "-", input=text)
            assert p.returncode == 2, (text, output, p.returncode, p.stdout)
            assert p.stdout == "", (text, output, p.stdout)
            assert message in p.stderr, (text, message, p.stderr)
    # empty input: an error unless --allow-empty
    for text in ("", "# only a comment\n", "---\n---\n"):
        p = run(b, "check", "-", input=text)
        assert p.returncode == 2 and "stdin: empty input" in p.stderr, (text, p.stderr)
        p = run(b, "check", "--allow-empty", "--output", "json", "-", input=text)
        assert p.returncode == 0 and json.loads(p.stdout)["summary"]["objects"] == 0, p.stderr
    # an empty List is no objects either
    p = run(b, "check", "-", input="apiVersion: v1\nkind: List\nitems: []\n")
    assert p.returncode == 2 and "no Kubernetes objects" in p.stderr, p.stderr
    # unreadable file, with its name
    p = run(b, "check", "/nonexistent/x.yaml")
    assert p.returncode == 2 and "cannot open /nonexistent/x.yaml" in p.stderr, p.stderr


INVALID = [
    # (document, path, message, line of the path)
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: s}\nspec:\n"
     "  template:\n    spec:\n      containers: oops\n",
     "spec.template.spec.containers", "must be a list, not a string", 7),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: s}\nspec:\n"
     "  replicas: 2\n", "spec.template", "is missing", 4),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: s}\n",
     "spec", "is missing", 1),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: s}\nspec:\n  containers:\n"
     "  - name: c\n    image: x:1\n    ports: 80\n", "spec.containers[0].ports",
     "must be a list, not an integer", 8),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: s}\nspec:\n  containers:\n"
     "  - oops\n", "spec.containers[0]", "must be a mapping, not a string", 6),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: s}\nspec:\n  containers:\n"
     "  - name: c\n    image: x:1\n    securityContext: {privileged: \"yes\"}\n",
     "spec.containers[0].securityContext.privileged", "must be a bool, not a string", 8),
    ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: a, namespace: s}\nspec:\n"
     "  schedule: '* * * * *'\n  jobTemplate: {spec: {template: []}}\n",
     "spec.jobTemplate.spec.template", "must be a mapping, not a list", 6),
    ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {n: 1}\nspec:\n"
     "  containers: [{name: c, image: 'x:1'}]\n", "metadata.labels.n", "must be a string", 5),
]


@test
def invalid_workloads_are_reported_not_passed(b):
    for text, path, message, line in INVALID:
        p = run(b, "check", "--output", "json", "-", input=text)
        assert p.returncode == 1, (text, p.returncode, p.stdout, p.stderr)
        r = json.loads(p.stdout)["results"][0]
        assert r["status"] == "invalid" and r["allowed"] is False, r
        probs = [(x["path"], x["line"]) for x in r["problems"] if message in x["message"]]
        assert (path, line) in probs, (text, r["problems"])
        assert json.loads(p.stdout)["summary"]["invalid"] == 1
        text_out = run(b, "check", "-", input=text).stdout
        assert f"stdin:{line}:" in text_out and "error: [invalid-object] " + path in text_out, text_out
        assert ": invalid (the API server would refuse it)" in text_out, text_out
        d = sarif_ok(run(b, "check", "--output", "sarif", "-", input=text).stdout)
        inv = [x for x in d["runs"][0]["results"] if x["ruleId"] == "invalid-object"]
        assert inv and inv[0]["level"] == "error", d["runs"][0]["results"]
        doc = xml.dom.minidom.parseString(run(b, "check", "--output", "junit", "-", input=text).stdout)
        case = [c for c in doc.getElementsByTagName("testcase")
                if c.getAttribute("name") == "invalid-object"][0]
        assert case.getElementsByTagName("failure"), case.toxml()


@test
def kinds_not_judged_are_skipped(b):
    stream = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\n---\n"
              "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n"
              "---\n" + pod("p", "kube-system"))
    p = run(b, "check", "--output", "json", "-", input=stream)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert [(r["name"], r["status"]) for r in d["results"]] == \
        [("cm", "skipped"), ("r", "skipped"), ("p", "skipped")], d["results"]
    assert "does not judge ConfigMap" in d["results"][0]["reason"]
    assert "kube-system is excluded" in d["results"][2]["reason"]
    assert d["summary"]["skipped"] == 3
    text = run(b, "check", "-", input=stream).stdout
    assert "stdin:1:1: ConfigMap shop/cm: skipped (plimsoll does not judge ConfigMap objects)" in text
    assert "admitted" not in text.replace("admitted with warnings", ""), text
    doc = xml.dom.minidom.parseString(run(b, "check", "--output", "junit", "-", input=stream).stdout)
    assert doc.documentElement.getAttribute("skipped") == "3"
    delete = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
              "request": {"uid": "1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                          "operation": "DELETE", "namespace": "shop", "name": "p",
                          "userInfo": {"username": "alice"}, "object": None}}
    r = check_json(b, "-", input=json.dumps(delete), want=(0,))["results"][0]
    assert r["status"] == "skipped" and r["reason"] == "only CREATE and UPDATE are judged", r


@test
def namespace_option_and_annotation_keys(b):
    stream = pod("a") + "---\n" + pod("b", "own") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    d = check_json(b, "--namespace", "apps", "-", input=stream)
    assert [(r["name"], r["namespace"]) for r in d["results"]] == \
        [("a", "apps"), ("b", "own"), ("c", "")], d["results"]
    d = check_json(b, "-", input=stream)
    assert d["results"][0]["namespace"] == "default"
    # Namespace annotations from the input follow --namespace
    ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps, annotations: {plimsoll.dev/mode: off}}\n---\n"
    p = run(b, "check", "--namespace", "apps", "-", input=ns + pod("a"))
    assert p.returncode == 0, p.stdout
    for bad in ("Apps", "-x", "a_b", "a" * 64, ""):
        p = run(b, "check", "--namespace", bad, "-", input=pod("a"))
        assert p.returncode == 2 and "--namespace" in p.stderr, (bad, p.stderr)
    for key in ("mode=warn", "example.com/mode=warn", "plimsoll.dev/=warn"):
        p = run(b, "check", "--namespace-annotation", key, "-", input=pod("a"))
        assert p.returncode == 2 and "plimsoll.dev/" in p.stderr, (key, p.stderr)
    p = run(b, "check", "--namespace-annotation", "plimsoll.dev/mode=warn", "-", input=pod("a"))
    assert p.returncode == 0, p.stdout
    # every policy off: the object is still one (passing) JUnit test case
    out = run(b, "check", "--output", "junit", "--namespace-annotation", "plimsoll.dev/mode=off",
              "-", input=pod("a")).stdout
    cases = xml.dom.minidom.parseString(out).getElementsByTagName("testcase")
    assert [c.getAttribute("name") for c in cases] == ["admission"], out


@test
def directories_recursive_sorted_and_loop_safe(b):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "m", "b", "deeper"))
        os.makedirs(os.path.join(d, "m", "a"))
        os.makedirs(os.path.join(d, "m", ".hidden"))
        files = {"m/z.yaml": pod("z", "s"), "m/a/one.yml": pod("one", "s"),
                 "m/b/deeper/two.json": json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": "two"}}),
                 "m/b/three.yaml": pod("three", "s"), "m/README.md": "not yaml",
                 "m/notes.txt": "kind: x", "m/.hidden/h.yaml": "{}",
                 "m/b/values.yaml.bak": "{}"}
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        os.symlink(os.path.join(d, "m"), os.path.join(d, "m", "b", "loop"))  # a cycle
        os.symlink(os.path.join(d, "m", "b"), os.path.join(d, "m", "b", "deeper", "up"))
        out = check_json(b, "m", cwd=d)
        assert [(r["file"], r["name"]) for r in out["results"]] == [
            ("m/a/one.yml", "one"), ("m/b/deeper/two.json", "two"), ("m/b/three.yaml", "three"),
            ("m/z.yaml", "z")], [(r["file"], r["name"]) for r in out["results"]]
        # a directory and a file given together; text names each file
        p = run(b, "check", "m/a", "m/z.yaml", cwd=d)
        assert p.returncode == 1 and "m/a/one.yml:1:1: Pod s/one: rejected" in p.stdout, p.stdout
        sarif = sarif_ok(run(b, "check", "--output", "sarif", "m", cwd=d).stdout)
        uris = sorted({r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                       for r in sarif["runs"][0]["results"]})
        assert uris == ["m/a/one.yml", "m/b/three.yaml", "m/z.yaml"], uris
        os.makedirs(os.path.join(d, "empty"))
        p = run(b, "check", "empty", cwd=d)
        assert p.returncode == 2 and "no *.yaml, *.yml or *.json files" in p.stderr, p.stderr
        assert run(b, "check", "--allow-empty", "empty", cwd=d).returncode == 0
        with open(os.path.join(d, "m", "a", "empty.yaml"), "w") as f:
            f.write("# nothing yet\n")
        p = run(b, "check", "m", cwd=d)
        assert p.returncode == 2 and "m/a/empty.yaml: empty input" in p.stderr, p.stderr


@test
def stdin_name_and_uri_encoding(b):
    p = run(b, "check", "--stdin-name", "rendered/app.yaml", "-", input=pod("a", "s"))
    assert p.stdout.startswith("rendered/app.yaml:1:1: Pod s/a: rejected"), p.stdout
    p = run(b, "check", "--output", "sarif", "-", input=pod("a", "s"))
    d = sarif_ok(p.stdout)
    assert d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"][
        "uri"] == "stdin"
    with tempfile.TemporaryDirectory() as tmp:
        name = os.path.join(tmp, "my app#1.yaml")
        with open(name, "w") as f:
            f.write(pod("a", "s"))
        d = sarif_ok(run(b, "check", "--output", "sarif", "my app#1.yaml", cwd=tmp).stdout)
        art = d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art == {"uri": "my%20app%231.yaml", "uriBaseId": "%SRCROOT%"}, art
        # a file outside --base-dir keeps an absolute file: URI (no %SRCROOT%)
        d = json.loads(run(b, "check", "--output", "sarif", "--base-dir", ROOT, name).stdout)
        art = d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        assert art["uri"].startswith("file:///") and "uriBaseId" not in art, art
    assert run(b, "check", "--base-dir", "/nonexistent", BAD).returncode == 2
    assert run(b, "check", "--stdin-name", "", "-", input=pod("a")).returncode == 2


@test
def audit_refuses_bad_usage_and_an_unreachable_api_server(b):
    """What `plimsoll audit` does without a cluster: exit 2, a reason on stderr, nothing
    on stdout (the cluster side is in test/e2e/audit.py)."""
    p = run(b, "audit", "--help")
    for flag in ("--kubeconfig", "--config", "--namespace NS", "--output", "Exit status"):
        assert flag in p.stdout, flag
    with tempfile.TemporaryDirectory() as d:
        closed = socket_port()
        kc = os.path.join(d, "kubeconfig")
        with open(kc, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: c
contexts: [{{name: c, context: {{cluster: k, user: u}}}}]
clusters: [{{name: k, cluster: {{server: "https://127.0.0.1:{closed}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: abc}}}}]
""")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": d}
        cases = [
            (["--output", "xml", "--kubeconfig", kc], env, "--output must be"),
            (["--namespace", "Not_A_Name", "--kubeconfig", kc], env, "not a namespace name"),
            (["--kubeconfig", kc, "extra"], env, "unexpected argument"),
            (["--kubeconfig", os.path.join(d, "missing")], env, "missing"),
            ([], {**env, "KUBECONFIG": kc + ":" + kc}, "several files"),
            ([], env, "no credentials for the API server"),
            (["--kubeconfig", kc], env, "cannot list namespaces"),
            (["--config", os.path.join(d, "missing.yaml"), "--kubeconfig", kc], env,
             "invalid configuration"),
        ]
        for args, e, why in cases:
            p = subprocess.run([b, "audit", *args], capture_output=True, text=True, timeout=30,
                               env=e)
            assert p.returncode == 2, (args, p.returncode, p.stderr)
            assert why in p.stderr, (args, p.stderr)
            assert p.stdout == "", (args, p.stdout)


def socket_port():
    """A loopback port nothing listens on (bound, then closed)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@test
def pre_commit_hook_and_docs(b):
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as f:
        hooks = f.read()
    assert "id: plimsoll-check" in hooks and "entry: plimsoll check" in hooks, hooks
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for needle in ("--output text\\|json\\|sarif\\|junit", "scripts/get-helm.sh",
                   "| plimsoll check --output sarif - > plimsoll.sarif"):
        assert needle in readme, needle
    p = run(b, "check", "--help")
    for flag in ("--namespace NS", "--base-dir", "--stdin-name", "--allow-empty", "sarif"):
        assert flag in p.stdout, flag


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
