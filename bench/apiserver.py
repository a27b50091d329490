#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What a Pod CREATE through a real kube-apiserver costs with plimsoll.

Run by bench/apiserver.sh, which starts the kit's API server and etcd
(../shared/k8s). Two plimsoll servers run on loopback: one with every policy
and mutation off (the cost of calling any webhook) and one with bench/
config.yaml (every policy enforced, every mutation on). The same Pod is then
created through the API server (keep-alive HTTPS, one connection per client,
a fresh name each time, real etcd writes) in four modes, taking turns in
every round so that all meet the same noise:

  none        no webhook configuration
  off         a ValidatingWebhookConfiguration to the all-off server
  validate    a ValidatingWebhookConfiguration to the bench server
  mutate      validate plus a MutatingWebhookConfiguration to it

each at 1 and 10 concurrent clients, one window each per round. A mode
change is confirmed before its windows: a server-side dry-run create must
reach the webhooks of the mode (their request counters move) and no other.
Each window is bounded in time and in objects, and its Pods are deleted
after it (deletecollection; with no kubelet they go at once). The report
gives, per mode and concurrency, the median window's p50 and p99 and their
ratio to the no-webhook windows of the same run, plus the server side: how
many TLS connections the API server opened to plimsoll, per review.

Output: Markdown on stdout; with --raw FILE one line per window. Exit 0, or
1 when a window had errors (a create that did not return 201), 2 on bad use.
"""
import argparse
import base64
import http.client
import json
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

NS = "plimsoll-bench"
MODES = ("none", "off", "validate", "mutate")
LABELS = {
    "none": "no webhook",
    "off": "plimsoll, every policy off",
    "validate": "plimsoll validating",
    "mutate": "plimsoll validating + mutating",
}


def log(msg):
    print(f"apiserver.py: {msg}", file=sys.stderr, flush=True)


class Api:
    """The kit's API server over HTTPS with the admin client certificate."""

    def __init__(self, url, pki):
        m = re.match(r"https://([^:/]+):(\d+)", url)
        if not m:
            raise SystemExit(f"apiserver.py: cannot read the API URL {url!r}")
        self.host, self.port = m.group(1), int(m.group(2))
        self.ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
        self.ctx.load_cert_chain(os.path.join(pki, "admin.crt"), os.path.join(pki, "admin.key"))

    def connect(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)

    def call(self, method, path, body=None, ok=(200, 201, 202, 404, 409)):
        conn = self.connect()
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read()
            if resp.status not in ok:
                raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]!r}")
            return resp.status, text
        finally:
            conn.close()


def pod_template(bodies_dir):
    """The small Pod of bench/gen_bodies.py, which passes every policy of bench/config.yaml."""
    review = json.load(open(os.path.join(bodies_dir, "pod-small.json")))
    pod = review["request"]["object"]
    meta = pod["metadata"]
    for key in ("name", "generateName", "namespace", "uid", "creationTimestamp",
                "ownerReferences", "managedFields"):
        meta.pop(key, None)
    return pod


class Server:
    """plimsoll serve on loopback with the kit's webhook certificate."""

    def __init__(self, binary, pki, config, workdir, name, extra=()):
        self.port = free_port()
        self.health = free_port()
        self.log_path = os.path.join(workdir, f"{name}.log")
        args = [binary, "serve", "--listen", f"127.0.0.1:{self.port}",
                "--health-listen", f"127.0.0.1:{self.health}",
                "--tls-cert", os.path.join(pki, "webhook.crt"),
                "--tls-key", os.path.join(pki, "webhook.key"),
                "--config", config, "--drain-seconds", "0", *extra]
        self.proc = subprocess.Popen(args, stdout=open(self.log_path, "w"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{self.health}/readyz",
                                          timeout=1).status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"plimsoll serve ({name}) not ready: {open(self.log_path).read()[-500:]}")

    def metrics(self):
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.health}/metrics",
                                      timeout=5).read().decode()
        counts = {"validate": 0, "mutate": 0}
        for line in text.splitlines():
            m = re.match(r'plimsoll_admission_requests_total\{endpoint="(\w+)".*\} (\d+)', line)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
        return counts

    def peers(self):
        """The client ports of the established TCP connections to the webhook port
        (the API server's connections)."""
        out = subprocess.run(["ss", "-Htn", "state", "established", f"( sport = :{self.port} )"],
                             capture_output=True, text=True).stdout
        ports = set()
        for line in out.splitlines():
            fields = line.split()
            if len(fields) >= 4:
                ports.add(fields[-1].rsplit(":", 1)[-1])
        return ports

    def connections(self):
        """How many established TCP connections the webhook port has."""
        return len(self.peers())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The rules the chart registers (charts/plimsoll/templates/webhooks.yaml): Pods and
# workloads, CREATE and UPDATE; in the namespace labelled for this benchmark only.
RULES = [
    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
     "resources": ["pods", "replicationcontrollers"]},
    {"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
     "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"]},
    {"apiGroups": ["batch"], "apiVersions": ["v1", "v1beta1"], "operations": ["CREATE", "UPDATE"],
     "resources": ["jobs", "cronjobs"]},
]


def webhook(kind, name, port, path, ca):
    hook = {
        "name": f"{path.strip('/')}.bench.plimsoll.dev",
        "admissionReviewVersions": ["v1"],
        "sideEffects": "None",
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "timeoutSeconds": 10,
        "namespaceSelector": {"matchLabels": {"plimsoll-bench": "on"}},
        "rules": RULES,
        "clientConfig": {"url": f"https://127.0.0.1:{port}{path}", "caBundle": ca},
    }
    if kind == "MutatingWebhookConfiguration":
        hook["reinvocationPolicy"] = "Never"
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": name}, "webhooks": [hook]}


VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"


def set_hooks(api, hooks, watched, ca, pod, what):
    """Registers hooks (a list of (kind, server, path)), removes every other
    webhook configuration of the benchmark, and waits until two server-side
    dry-run creates in a row reach exactly those endpoints of the watched
    servers and no other (the API server learns of configurations through a
    watch)."""
    api.call("DELETE", f"{VWC}/plimsoll-bench-validate")
    api.call("DELETE", f"{MWC}/plimsoll-bench-mutate")
    want = {id(s): set() for s in watched}
    for kind, server, path in hooks:
        coll, name = (VWC, "plimsoll-bench-validate") if kind == "Validating" else (
            MWC, "plimsoll-bench-mutate")
        api.call("POST", coll, webhook(f"{kind}WebhookConfiguration", name, server.port, path, ca))
        want[id(server)].add(path.strip("/"))
    body = dict(pod, metadata=dict(pod["metadata"], name="dry-run-probe"))
    good = 0
    deadline = time.time() + 30
    while time.time() < deadline:
        before = [s.metrics() for s in watched]
        api.call("POST", f"/api/v1/namespaces/{NS}/pods?dryRun=All", body)
        after = [s.metrics() for s in watched]
        got = {id(s): {ep for ep in ("validate", "mutate") if a[ep] > b[ep]}
               for s, b, a in zip(watched, before, after)}
        good = good + 1 if got == want else 0
        if good == 2:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what}: the API server did not take the webhook configuration")


def set_mode(api, mode, servers, ca, pod):
    """Registers the webhooks of mode (see MODES) and waits until they are in force."""
    off, bench = servers
    hooks = {
        "none": [],
        "off": [("Validating", off, "/validate")],
        "validate": [("Validating", bench, "/validate")],
        "mutate": [("Validating", bench, "/validate"), ("Mutating", bench, "/mutate")],
    }[mode]
    set_hooks(api, hooks, servers, ca, pod, f"mode {mode}")


def timed_create(conn, pod, name):
    """One create on conn; its latency in seconds (raises unless 201)."""
    body = json.dumps(dict(pod, metadata=dict(pod["metadata"], name=name))).encode()
    t0 = time.perf_counter()
    conn.request("POST", f"/api/v1/namespaces/{NS}/pods", body=body,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    text = resp.read()
    t1 = time.perf_counter()
    if resp.status != 201:
        raise RuntimeError(f"create {name}: {resp.status} {text[:200]!r}")
    return t1 - t0


def idle_phase(api, pod, ca, idle_servers, gap, trials):
    """After gap seconds without reviews, does the API server still have its
    connection to plimsoll, or does the next create pay for a new one? For
    each trial and each server (they differ in --connection-timeout), in
    turn: register a validating webhook to it, create a Pod (the connection is
    made), wait, create another on a warmed client connection, then a third
    at once (the warm figure). Returns {label: [(new_connection, after_gap_s,
    warm_s)]}."""
    out = {label: [] for label, _ in idle_servers}
    watched = [srv for _, srv in idle_servers]
    for t in range(trials):
        for label, srv in idle_servers:
            set_hooks(api, [("Validating", srv, "/validate")], watched, ca, pod, f"idle {label}")
            slug = label.replace(" ", "")
            conn = api.connect()
            try:
                timed_create(conn, pod, f"idle-{t}-{slug}-a")
                before = srv.peers()
                time.sleep(gap)
                conn.close()
                conn = api.connect()
                conn.request("GET", f"/api/v1/namespaces/{NS}")  # the client side warmed
                conn.getresponse().read()
                after_gap = timed_create(conn, pod, f"idle-{t}-{slug}-b")
                new = bool(srv.peers() - before)
                warm = timed_create(conn, pod, f"idle-{t}-{slug}-c")
            finally:
                conn.close()
            out[label].append((new, after_gap, warm))
            log(f"idle trial={t} server={label} gap_s={gap:g} new_connection={int(new)} "
                f"after_gap_ms={after_gap * 1e3:.3f} warm_ms={warm * 1e3:.3f}")
            api.call("DELETE", f"/api/v1/namespaces/{NS}/pods")
    return out


def window(api, pod, clients, seconds, max_objects, tag):
    """Creates Pods from `clients` threads, each on one keep-alive connection,
    until seconds pass or max_objects are made; returns the latencies (s) and errors."""
    lat = []
    errors = []
    lock = threading.Lock()
    count = [0]
    deadline = time.monotonic() + seconds

    def client(i):
        conn = api.connect()
        n = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if count[0] >= max_objects:
                        return
                    count[0] += 1
                body = dict(pod, metadata=dict(pod["metadata"], name=f"{tag}-{i}-{n}"))
                data = json.dumps(body).encode()
                n += 1
                t0 = time.perf_counter()
                try:
                    conn.request("POST", f"/api/v1/namespaces/{NS}/pods", body=data,
                                 headers={"Content-Type": "application/json"})
                    resp = conn.getresponse()
                    text = resp.read()
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = api.connect()
                    with lock:
                        errors.append(str(e))
                    continue
                t1 = time.perf_counter()
                with lock:
                    if resp.status == 201:
                        lat.append(t1 - t0)
                    else:
                        errors.append(f"{resp.status} {text[:200]!r}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    api.call("DELETE", f"/api/v1/namespaces/{NS}/pods")
    return lat, errors, elapsed


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plimsoll", required=True)
    ap.add_argument("--state", required=True, help="the kit's state dir (PLIMSOLL_K8S_DIR)")
    ap.add_argument("--api-url", required=True)
    ap.add_argument("--bodies", required=True, help="bench/gen_bodies.py output")
    ap.add_argument("--config", required=True, help="bench/config.yaml")
    ap.add_argument("--seconds", type=float, default=4.0, help="one window")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-objects", type=int, default=2000, help="Pods per window at most")
    ap.add_argument("--clients", default="1,10")
    ap.add_argument("--raw", help="append one line per window to this file")
    ap.add_argument("--idle-gap", type=float, default=0,
                    help="also measure a create after this many idle seconds (0: not)")
    ap.add_argument("--idle-trials", type=int, default=3)
    a = ap.parse_args()
    if a.rounds < 1 or a.seconds <= 0 or a.max_objects < 1:
        ap.error("rounds, seconds and max-objects must be positive")
    clients = [int(c) for c in a.clients.split(",")]
    pki = os.path.join(a.state, "pki")
    api = Api(a.api_url, pki)
    ca = base64.b64encode(open(os.path.join(pki, "ca.crt"), "rb").read()).decode()
    pod = pod_template(a.bodies)
    work = tempfile.mkdtemp(prefix="plimsoll-apibench-")
    off_cfg = os.path.join(work, "off.yaml")
    with open(off_cfg, "w") as f:
        out = subprocess.run([a.plimsoll, "policies", "--output", "json"], check=True,
                             capture_output=True, text=True).stdout
        ids = [p["id"] for p in json.loads(out) if p.get("kind", "policy") == "policy"]
        muts = [p["id"] for p in json.loads(out) if p.get("kind") == "mutation"]
        f.write("policies:\n" + "".join(f"  {i}: {{mode: off}}\n" for i in ids))
        if muts:
            f.write("mutations:\n" + "".join(f"  {m}: {{enabled: false}}\n" for m in muts))
    servers = (Server(a.plimsoll, pki, off_cfg, work, "off"),
               Server(a.plimsoll, pki, a.config, work, "bench"))
    idle_servers = []
    if a.idle_gap > 0:
        # The same server but for how long it keeps an idle connection: 30 s (the
        # default until issue 19) and 120 s (longer than the API server's 90 s).
        idle_servers = [(f"{t} s", Server(a.plimsoll, pki, a.config, work, f"idle{t}",
                                          ["--connection-timeout", str(t)]))
                        for t in (30, 120)]
    idle = {}
    results = {}  # (mode, clients) -> list of (p50, p99, n, errors)
    failed = 0
    try:
        api.call("DELETE", f"{VWC}/plimsoll-bench-validate")
        api.call("DELETE", f"{MWC}/plimsoll-bench-mutate")
        api.call("POST", "/api/v1/namespaces",
                 {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": NS, "labels": {"plimsoll-bench": "on"}}})
        api.call("DELETE", f"/api/v1/namespaces/{NS}/pods")
        for r in range(a.rounds):
            for mode in MODES:
                set_mode(api, mode, servers, ca, pod)
                for c in clients:
                    lat, errs, secs = window(api, pod, c, a.seconds, a.max_objects,
                                             f"r{r}-{mode}-c{c}")
                    p50, p99 = pct(lat, 50), pct(lat, 99)
                    conns = servers[1].connections() if mode in ("validate", "mutate") else 0
                    results.setdefault((mode, c), []).append((p50, p99, len(lat), len(errs), conns))
                    failed += len(errs)
                    line = (f"apiserver round={r} mode={mode} clients={c} n={len(lat)} "
                            f"errors={len(errs)} seconds={secs:.2f} rps={len(lat) / secs:.1f} "
                            f"p50_ms={p50 * 1e3:.3f} p99_ms={p99 * 1e3:.3f} connections={conns}")
                    log(line + (f" first error: {errs[0]}" if errs else ""))
                    if a.raw:
                        with open(a.raw, "a") as f:
                            f.write(line + "\n")
        if idle_servers:
            idle = idle_phase(api, pod, ca, idle_servers, a.idle_gap, a.idle_trials)
    finally:
        try:
            api.call("DELETE", f"{VWC}/plimsoll-bench-validate")
            api.call("DELETE", f"{MWC}/plimsoll-bench-mutate")
            api.call("DELETE", f"/api/v1/namespaces/{NS}/pods")
            api.call("DELETE", f"/api/v1/namespaces/{NS}")
        finally:
            for s in list(servers) + [srv for _, srv in idle_servers]:
                s.stop()
    report(results, clients, a, failed)
    if idle:
        report_idle(idle, a.idle_gap)
    return 1 if failed else 0


def report(results, clients, a, failed):
    def median_window(mode, c, key):
        return statistics.median(w[key] for w in results[(mode, c)])

    print(f"Pod CREATE through the kit's kube-apiserver (v1.20, etcd, no kubelet), keep-alive "
          f"HTTPS, one connection per client; {a.rounds} rounds of {a.seconds:g} s windows "
          f"(at most {a.max_objects} Pods each), the four modes in turn in every round; "
          f"the median window's p50 / p99 in ms, and its ratio to the no-webhook median of the "
          f"same run:")
    print()
    head = "| mode |" + "".join(f" {c} client{'s' if c > 1 else ''}: p50 / p99 ms | ratio |"
                                for c in clients)
    print(head)
    print("|---|" + "---|---|" * len(clients))
    for mode in MODES:
        row = f"| {LABELS[mode]} |"
        for c in clients:
            p50, p99 = median_window(mode, c, 0), median_window(mode, c, 1)
            b50, b99 = median_window("none", c, 0), median_window("none", c, 1)
            row += (f" {p50 * 1e3:.2f} / {p99 * 1e3:.2f} |"
                    f" {p50 / b50:.2f} / {p99 / b99:.2f} |")
        print(row)
    print()
    conns = {c: max(w[4] for m in ("validate", "mutate") for w in results[(m, c)])
             for c in clients}
    print(f"Creates that failed: {failed}. Connections the API server held open to plimsoll "
          f"after a window (most seen): "
          + ", ".join(f"{conns[c]} at {c} client{'s' if c > 1 else ''}" for c in clients) + ".")


def report_idle(idle, gap):
    print()
    print(f"A create after {gap:g} s without reviews, through the validating webhook, by how "
          f"long plimsoll keeps an idle connection (`--connection-timeout`): how often the "
          f"API server had to open a new connection (TCP and TLS) for it, and its latency "
          f"against a create right after it (median of the trials, ms):")
    print()
    print("| idle timeout | new connection after the gap | create after the gap | create right after |")
    print("|---|---|---|---|")
    for label, trials in idle.items():
        news = sum(1 for t in trials if t[0])
        print(f"| {label} | {news} of {len(trials)} | "
              f"{statistics.median(t[1] for t in trials) * 1e3:.2f} | "
              f"{statistics.median(t[2] for t in trials) * 1e3:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
