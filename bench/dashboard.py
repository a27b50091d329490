#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/dashboard.py: `plimsoll dashboard` at scale (issue 15).

Starts the kit's real API server (../shared/k8s) in its own state dir, without
kube-controller-manager (so that 10,000 Deployments do not also become 10,000
ReplicaSets and their Pods on a 2-core machine), creates NAMESPACES namespaces
with WORKLOADS Deployments in all (a third of them bad; every tenth namespace in
warn mode), then runs `plimsoll dashboard` against it and prints:

  - time from start to ready (every kind listed, every workload judged);
  - CPU µs per judged workload (the process's user+system time at ready divided
    by the workloads; each is judged twice: as it stands, and as if its namespace
    were in enforce mode), and the same for steady-state re-judging;
  - RSS at ready and its peak, and the bytes per workload beyond an empty view;
  - the delay from `kubectl` returning (the API server accepted the change) to the
    new verdict on /api/v1/namespaces/NS/workloads, over CHANGES changes;
  - that exactly one list and one watch per kind were made (the API server's own
    request log is not needed: the dashboard counts its requests per kind).

Every phase is bounded in time; the cluster is stopped and wiped at the end.

  bench/dashboard.py [--plimsoll BIN] [--namespaces 100] [--workloads 10000] [--changes 20]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIT = os.path.join(os.path.dirname(ROOT), "shared", "k8s")


def sh(*args, env=None, input=None, timeout=600, check=True):
    p = subprocess.run(args, env=env, input=input, capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])}...: {p.stderr[-2000:]}")
    return p


def deployment(name, ns, bad):
    """A bad Deployment (no liveness probe, latest tag, no security context) or one that
    passes every default policy."""
    c = {"name": "web", "image": "nginx:latest" if bad else "registry.example.com/web:1.4.2",
         "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                       "limits": {"memory": "32Mi"}},
         "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}
    pod = {"containers": [c]}
    if not bad:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
        c["securityContext"] = {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}}
        c["ports"] = [{"containerPort": 8080}]
        c["lifecycle"] = {"preStop": {"httpGet": {"path": "/healthz", "port": 8080}}}
        pod["automountServiceAccountToken"] = False
        pod["topologySpreadConstraints"] = [{
            "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                     "template": {"metadata": {"labels": {"app.kubernetes.io/name": name,
                                                          "plimsoll.dev/commit": "3f2a9c1"}},
                                  "spec": pod}}}


def proc_figures(pid):
    """(cpu seconds, rss bytes, peak rss bytes) of pid."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    status = open(f"/proc/{pid}/status").read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) * 1024
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024
    return cpu, rss, hwm


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.status, r.read().decode()


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else None


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(fn, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise SystemExit(f"timeout: {what}")


def ready_on(port):
    try:
        return get(port, "/readyz")[0] == 200
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plimsoll", default=os.path.join(ROOT, "build", "cli", "plimsoll"))
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--workloads", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=20)
    a = ap.parse_args()
    if not (1 <= a.namespaces <= 1000 and a.namespaces <= a.workloads <= 100000):
        raise SystemExit("namespaces 1..1000, workloads namespaces..100000")
    state = os.environ.get("PLIMSOLL_BENCH_K8S_DIR", "/tmp/plimsoll-bench-dashboard")
    env = dict(os.environ, PLIMSOLL_K8S_DIR=state, WITH_KCM="0")
    os.makedirs(state, exist_ok=True)
    if not os.path.exists(os.path.join(state, "bin")):
        os.symlink(os.path.expanduser("~/.cache/plimsoll-k8s/bin"), os.path.join(state, "bin"))
    sh(os.path.join(KIT, "build.sh"), env=env, timeout=1800)
    sh(os.path.join(KIT, "stop.sh"), "--wipe", env=env, check=False)
    out = sh(os.path.join(KIT, "start.sh"), env=env, timeout=300).stdout
    env.update(dict(re.findall(r"^export (\w+)=(.*)$", out, re.M)))
    kubectl = [os.path.join(state, "bin", "kubectl"), "--kubeconfig", env["KUBECONFIG"]]
    dash = None
    try:
        # The fixed costs (start-up, nine TLS connections, an empty view) first.
        port = free_port()
        base = subprocess.Popen([a.plimsoll, "dashboard", "--listen", f"127.0.0.1:{port}",
                                 "--kubeconfig", env["KUBECONFIG"], "--log-level", "warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        until(lambda: ready_on(port), 60, "empty dashboard ready")
        cpu0, rss0, _ = proc_figures(base.pid)
        base.terminate()
        base.wait(30)
        t0 = time.time()
        per_ns = a.workloads // a.namespaces
        for i in range(a.namespaces):
            ns = f"bench-{i:03d}"
            ann = {"plimsoll.dev/mode": "warn"} if i % 10 == 0 else {}
            items = [{"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": ns, "annotations": ann}}]
            items += [deployment(f"web-{j:04d}", ns, j % 3 == 0) for j in range(per_ns)]
            sh(*kubectl, "create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                  "items": items}), timeout=600)
        created = time.time() - t0
        port = free_port()
        work = tempfile.mkdtemp(prefix="plimsoll-bench-dash-")
        log = open(os.path.join(work, "dashboard.log"), "w")
        start = time.time()
        dash = subprocess.Popen([a.plimsoll, "dashboard", "--listen", f"127.0.0.1:{port}",
                                 "--kubeconfig", env["KUBECONFIG"], "--log-level", "warn"],
                                stdout=log, stderr=subprocess.STDOUT)
        until(lambda: ready_on(port), 600, "dashboard ready")
        to_ready = time.time() - start
        cpu, rss, hwm = proc_figures(dash.pid)
        metrics = get(port, "/metrics")[1]
        judged = metric(metrics, "plimsoll_dashboard_judged_total")
        summary = json.loads(get(port, "/api/v1/summary")[1])
        n = summary["cluster"]["workloads"]
        # Changes: one Deployment at a time scaled to 1 replica (the replicas policy then
        # warns), and the time until the dashboard's API shows that verdict.
        delays = []
        for k in range(a.changes):
            ns, name = f"bench-{(k * 7) % a.namespaces:03d}", f"web-{(k * 3 + 1) % per_ns:04d}"
            sh(*kubectl, "-n", ns, "patch", "deployment", name, "-p", '{"spec":{"replicas":1}}')
            t = time.time()
            def changed():
                w = json.loads(get(port, f"/api/v1/namespaces/{ns}/workloads")[1])["workloads"]
                return any(x["name"] == name and any(v["policy"] == "replicas"
                                                     for v in x["violations"]) for x in w)
            until(changed, 30, f"change {k} visible")
            delays.append(time.time() - t)
        cpu2, rss2, hwm2 = proc_figures(dash.pid)
        judged2 = metric(get(port, "/metrics")[1], "plimsoll_dashboard_judged_total")
        delays.sort()
        print(f"# plimsoll dashboard at scale ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs)")
        print(f"workloads: {n} Deployments in {a.namespaces} namespaces "
              f"(created in {created:.1f} s through the API server); rejected now "
              f"{summary['cluster']['rejected']}, warned {summary['cluster']['warned']}, "
              f"passing {summary['cluster']['passing']}, rejected in enforce mode "
              f"{summary['cluster']['would_reject_if_enforced']}")
        print(f"start to ready: {to_ready:.2f} s")
        print(f"workloads judged at ready: {judged:.0f} (each as it stands and, unless already "
              f"rejected or in an enforce namespace, as if its namespace were in enforce mode)")
        print(f"CPU to ready: {cpu:.2f} s; beyond an empty view ({cpu0:.2f} s): "
              f"{(cpu - cpu0) / n * 1e6:.0f} µs per workload (list, parse, judge, keep)")
        print(f"RSS at ready: {rss / 2**20:.1f} MiB (peak {hwm / 2**20:.1f} MiB; empty view "
              f"{rss0 / 2**20:.1f} MiB): {(rss - rss0) / n / 1024:.2f} KiB per workload")
        print(f"change to verdict ({len(delays)} changes): median {delays[len(delays) // 2] * 1000:.0f} ms, "
              f"max {delays[-1] * 1000:.0f} ms (from kubectl returning to the new verdict on the API)")
        print(f"after the changes: {judged2 - judged:.0f} more judgements, RSS {rss2 / 2**20:.1f} MiB, "
              f"CPU {(cpu2 - cpu) * 1000:.0f} ms")
        print(f"projection to 100k workloads: RSS about "
              f"{(rss0 + (rss - rss0) / n * 100000) / 2**20:.0f} MiB, CPU to ready about "
              f"{cpu0 + (cpu - cpu0) / n * 100000:.0f} s")
    finally:
        if dash:
            dash.terminate()
            dash.wait(30)
        sh(os.path.join(KIT, "stop.sh"), "--wipe", env=env, check=False)


if __name__ == "__main__":
    sys.exit(main())
