#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The chart's alerts and dashboard, and the server's metrics, checked by Prometheus itself.

  rules_check            the chart's PrometheusRule (helm template, default values) passes
                         `promtool check rules`
  rules_unit_tests       `promtool test rules test/prometheus/rules_test.yaml`: each alert
                         fires on the series that should fire it and stays silent otherwise
  scrape                 Debian's prometheus scrapes a real `plimsoll serve` on loopback
                         (reviews of every decision, a dry run, invalid bodies, a failed
                         handshake, a rejected config reload, a namespace watch against the
                         fake API server of test/kube with one failed watch)
  documented_series      every metric of docs/design/metrics.md is in /api/v1/metadata with
                         its documented type, and /metrics exposes no undocumented family
  alert_expressions      Prometheus loaded the rules: every rule's health is ok, and every
                         expression evaluates without error through /api/v1/query
  dashboard              the chart ships charts/plimsoll/dashboards/plimsoll.json as a
                         ConfigMap labelled grafana_dashboard: "1" (off by default); every
                         panel's expression evaluates without error, and the key ones
                         return data

Usage: run.py PLIMSOLL
  HELM      a helm binary (default: scripts/get-helm.sh)
Prints "ok - name" / "not ok - name" and ends with "N passed, N failed". About 40 s.
"""
import importlib.util
import json
import os
import re
import shutil
import ssl
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHART = os.path.join(ROOT, "charts", "plimsoll")
NAMESPACE, JOB = "plimsoll-system", "plimsoll"   # the chart's defaults, as the rules select


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


it = load("it", "test/integration/run.py")
fa = load("fa", "test/kube/fake_apiserver.py")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def helm():
    h = os.environ.get("HELM") or subprocess.run(
        [os.path.join(ROOT, "scripts", "get-helm.sh")], capture_output=True, text=True).stdout.strip()
    assert h and os.access(h, os.X_OK), "no helm (scripts/get-helm.sh)"
    return h


def render(*sets):
    args = [helm(), "template", "plimsoll", CHART, "--namespace", NAMESPACE]
    for s in sets:
        args += ["--set", s]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return [d for d in yaml.safe_load_all(p.stdout) if d]


def documented():
    """{metric: type} from the one table of docs/design/metrics.md."""
    out = {}
    with open(os.path.join(ROOT, "docs", "design", "metrics.md")) as f:
        for line in f:
            m = re.match(r"^\| `([a-z_:]+)` \| (counter|gauge|histogram|summary) \|", line)
            if m:
                out[m.group(1)] = m.group(2)
    assert len(out) > 20, out
    return out


class Ctx:
    pass


# ---------------------------------------------------------------- promtool

@test
def rules_check(c):
    # With the ServiceMonitors, as in production (PlimsollDashboardDown's absent()).
    docs = [d for d in render("metrics.prometheusRule.enabled=true",
                              "metrics.serviceMonitor.enabled=true")
            if d.get("kind") == "PrometheusRule"]
    assert len(docs) == 1, docs
    c.groups = docs[0]["spec"]["groups"]
    c.rules_path = os.path.join(c.dir, "rules.yaml")
    with open(c.rules_path, "w") as f:
        yaml.safe_dump({"groups": c.groups}, f, sort_keys=False)
    p = subprocess.run(["promtool", "check", "rules", c.rules_path], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    alerts = {r["alert"] for g in c.groups for r in g["rules"] if "alert" in r}
    want = {"PlimsollWebhookErrors", "PlimsollWebhookCallErrors", "PlimsollWebhookSlow",
            "PlimsollWebhookLatencyNearTimeout", "PlimsollCertificateExpiresSoon",
            "PlimsollCertificateReloadFailed", "PlimsollConfigReloadFailed",
            "PlimsollNamespaceViewStale", "PlimsollTLSHandshakeFailures",
            "PlimsollDashboardDown", "PlimsollDashboardNotReady", "PlimsollDashboardViewStale",
            "PlimsollDashboardWatchErrors", "PlimsollDashboardFailingWorkloadsGrew"}
    assert alerts == want, alerts ^ want
    c.alerts = alerts


@test
def rules_unit_tests(c):
    with open(os.path.join(HERE, "rules_test.yaml")) as f:
        spec = yaml.safe_load(f)
    rules = {r["alert"]: r for g in c.groups for r in g["rules"] if "alert" in r}
    fired, silent = set(), set()
    for case in spec["tests"]:
        for t in case["alert_rule_test"]:
            (fired if t["exp_alerts"] else silent).add(t["alertname"])
            for a in t["exp_alerts"]:
                # The annotations are prose: taken from the rule, unless the test gives
                # one (a templated one, such as a summary naming $labels); the labels
                # are tested.
                given = a.setdefault("exp_annotations", {})
                for k, v in rules[t["alertname"]].get("annotations", {}).items():
                    given.setdefault(k, v)
    # Every alert is tested both ways.
    assert fired == c.alerts and silent == c.alerts, (c.alerts - fired, c.alerts - silent)
    path = os.path.join(c.dir, "rules_test.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(spec, f, sort_keys=False)
    p = subprocess.run(["promtool", "test", "rules", path], capture_output=True, text=True,
                       cwd=c.dir)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert "SUCCESS" in p.stdout, p.stdout


# ---------------------------------------------------------------- a real scrape

class FlakyWatch(fa.Scenario):
    """One namespace; the first watch fails (a counted watch error), later ones stay open."""

    def __init__(self):
        super().__init__()
        self.watches = 0

    def watch(self, req):
        self.watches += 1
        if self.watches == 1:
            req.reply(500, json.dumps({"kind": "Status", "code": 500, "message": "boom"}).encode())
            return
        super().watch(req)


def traffic(srv, stop, errors):
    """Reviews of every decision, until stop is set."""
    ok = it.review(it.pod(containers=[it.good_container()]))
    bad = it.review(it.deployment([{"name": "web", "image": "nginx:latest"}]))
    dry = it.review(it.pod(containers=[it.good_container()]), dry_run=True)
    mutate = it.review(it.pod(containers=[it.good_container()]))
    while not stop.is_set():
        try:
            conn = srv.connect()
            for body, path in ((ok, "/validate"), (bad, "/validate"), (dry, "/validate"),
                               (mutate, "/mutate"), (b"{not json", "/validate")):
                srv.post(path, body, conn=conn)
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))
        stop.wait(0.1)


def query(c, expr):
    url = f"http://127.0.0.1:{c.prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def api(c, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{c.prom_port}{path}", timeout=10) as r:
        return json.load(r)


@test
def scrape(c):
    c.fake = fa.FakeAPIServer(FlakyWatch(), c.dir, tls=False)
    c.srv = it.Server(c.binary, c.dir, config="policies:\n  image-tag: {mode: enforce}\n",
                      extra=["--kubeconfig", c.fake.kubeconfig()])
    c.stop = threading.Event()
    c.errors = []
    c.traffic = threading.Thread(target=traffic, args=(c.srv, c.stop, c.errors), daemon=True)
    c.traffic.start()
    # A client that does not trust the CA: one failed handshake.
    other = os.path.join(c.dir, "other-ca")
    subprocess.run([c.binary, "certs", "generate", "--service", "x", "--namespace", "y",
                    "--out", other], check=True, capture_output=True)
    try:
        with socket.create_connection(("127.0.0.1", c.srv.port), timeout=10) as raw:
            ctx = ssl.create_default_context(cafile=os.path.join(other, "ca.crt"))
            ctx.wrap_socket(raw, server_hostname="localhost")
    except ssl.SSLError:
        pass
    # A rejected configuration reload.
    with open(c.srv.config_path, "w") as f:
        f.write("policies:\n  image-tag: {mode: sometimes}\n")
    c.prom_port = it.free_port()
    cfg = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
           "rule_files": [c.rules_path],
           "scrape_configs": [{"job_name": JOB, "static_configs": [
               {"targets": [f"127.0.0.1:{c.srv.health}"], "labels": {"namespace": NAMESPACE}}]}]}
    cfg_path = os.path.join(c.dir, "prometheus.yml")
    with open(cfg_path, "w") as f:
        yaml.safe_dump(cfg, f)
    c.prom_log = open(os.path.join(c.dir, "prometheus.log"), "w")
    c.prom = subprocess.Popen(["prometheus", f"--config.file={cfg_path}",
                               f"--storage.tsdb.path={os.path.join(c.dir, 'tsdb')}",
                               f"--web.listen-address=127.0.0.1:{c.prom_port}"],
                              stdout=c.prom_log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    up = None
    while time.time() < deadline:
        assert c.prom.poll() is None, open(c.prom_log.name).read()[-3000:]
        try:
            r = query(c, f'up{{job="{JOB}"}}')
            res = r["data"]["result"]
            # Wait for enough samples for rate() over a few seconds, and for the
            # failed reload and the watch error to have been scraped.
            if res and res[0]["value"][1] == "1":
                up = up or time.time()
                n = query(c, 'count_over_time(plimsoll_ready[1m])')["data"]["result"]
                if n and int(n[0]["value"][1]) >= 8:
                    break
        except OSError:
            pass
        time.sleep(0.5)
    assert up, "Prometheus never scraped plimsoll: " + open(c.prom_log.name).read()[-2000:]
    assert not c.errors, c.errors[:3]
    v = query(c, "plimsoll_config_last_reload_successful")["data"]["result"]
    assert v and v[0]["value"][1] == "0", v


@test
def documented_series(c):
    docs = documented()
    meta = api(c, "/api/v1/metadata")["data"]
    wrong = {m: (t, [x["type"] for x in meta.get(m, [])]) for m, t in docs.items()
             if t not in [x["type"] for x in meta.get(m, [])]}
    assert not wrong, f"documented type vs /api/v1/metadata: {wrong}"
    # And the other way: every family the server exposes is documented.
    _, text = c.srv.get("/metrics")
    exposed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    assert exposed == set(docs), ("undocumented:", exposed - set(docs),
                                  "documented, not exposed:", set(docs) - exposed)
    # Present in Prometheus itself, with samples.
    for m, t in docs.items():
        name = m + "_count" if t == "histogram" else m
        r = query(c, f'count({name}{{job="{JOB}"}})')
        assert r["status"] == "success" and r["data"]["result"], (m, r)
    # The labels the dashboards use are there.
    for expr in ('plimsoll_admission_requests_total{dry_run="true",operation="CREATE"}',
                 'plimsoll_admission_requests_total{decision="invalid",operation="unknown"}',
                 'plimsoll_namespace_violations_total{object_namespace="shop"}',
                 'plimsoll_tls_handshake_failures_total{reason="closed-after-certificate"} > 0',
                 'plimsoll_namespace_watch_errors_total{request="watch"} > 0',
                 'plimsoll_admission_duration_seconds_bucket{le="30"}'):
        r = query(c, expr)
        assert r["data"]["result"], (expr, r)


@test
def alert_expressions(c):
    rules = api(c, "/api/v1/rules")["data"]["groups"]
    seen = set()
    for g in rules:
        for r in g["rules"]:
            assert r["health"] == "ok" and not r.get("lastError"), r
            seen.add(r["name"])
    assert c.alerts <= seen, c.alerts - seen
    for g in c.groups:
        for r in g["rules"]:
            res = query(c, r["expr"])
            assert res["status"] == "success", (r["alert"], res)
    # The rejected reload is seen by the alert's expression (it fires after its `for`).
    expr = [r["expr"] for g in c.groups for r in g["rules"]
            if r["alert"] == "PlimsollConfigReloadFailed"][0]
    assert query(c, expr)["data"]["result"], expr


KEY_PANELS = {"Reviews per second by decision", "Reviews per second by kind and operation",
              "Error ratio", "Review latency", "Failed TLS handshakes per second",
              "Violations per second by policy", "Violations per second by namespace",
              "Certificate expires in", "Last reloads successful", "Reloads", "Ready pods",
              "Namespace view staleness", "CPU", "Memory", "File descriptors"}


@test
def dashboard(c):
    with open(os.path.join(CHART, "dashboards", "plimsoll.json")) as f:
        dash = json.load(f)
    # Shipped by the chart, off by default, with the sidecar's label.
    # (the ConfigMap: `plimsoll dashboard`'s own Deployment and Service, on by default,
    # are named <release>-dashboard too)
    assert not [d for d in render() if d["kind"] == "ConfigMap"
                and d["metadata"]["name"].endswith("-dashboard")]
    cms = [d for d in render("grafanaDashboard.enabled=true")
           if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "plimsoll-dashboard"]
    assert len(cms) == 1, cms
    assert cms[0]["metadata"]["labels"].get("grafana_dashboard") == "1", cms[0]["metadata"]
    assert json.loads(cms[0]["data"]["plimsoll.json"]) == dash
    # Every panel's query, with the variables as Grafana would set them.
    names = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "namespace", "job"} <= names, names
    subst = {"$namespace": NAMESPACE, "$job": JOB, "$__rate_interval": "20s"}
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    assert KEY_PANELS <= titles, KEY_PANELS - titles
    empty = []
    for p in panels:
        assert p.get("targets"), p["title"]
        for t in p["targets"]:
            expr = t["expr"]
            for k, v in subst.items():
                expr = expr.replace(k, v)
            assert "$" not in expr, (p["title"], expr)
            r = query(c, expr)
            assert r["status"] == "success", (p["title"], expr, r)
            if p["title"] in KEY_PANELS and not r["data"]["result"]:
                empty.append((p["title"], expr))
    assert not empty, f"key panels without data: {empty}"


def cleanup(c):
    if getattr(c, "stop", None):
        c.stop.set()
    if getattr(c, "prom", None):
        c.prom.terminate()
        try:
            c.prom.wait(20)
        except subprocess.TimeoutExpired:
            c.prom.kill()
        c.prom_log.close()
    code = 0
    if getattr(c, "srv", None):
        code = c.srv.stop()
    if getattr(c, "fake", None):
        c.fake.scenario.stop.set()
        c.fake.close()
    return code


def main():
    binary = os.path.abspath(sys.argv[1])
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            print(f"not ok - {tool} is installed (Debian package prometheus)")
            print("0 passed, 1 failed")
            return 1
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="plimsoll-prom-") as d:
        c = Ctx()
        c.dir, c.binary = d, binary
        try:
            for fn in TESTS:
                t0 = time.time()
                try:
                    fn(c)
                    print(f"ok - {fn.__name__} ({time.time() - t0:.1f}s)", flush=True)
                    passed += 1
                except Exception:  # noqa: BLE001 - every failure is reported
                    print(f"not ok - {fn.__name__}", flush=True)
                    print("    " + traceback.format_exc().replace("\n", "\n    "), flush=True)
                    failed += 1
        finally:
            code = cleanup(c)
            if code != 0:
                print(f"not ok - server exit status {code}")
                failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
