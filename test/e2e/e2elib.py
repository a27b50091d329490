#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What the end-to-end scenarios share: the cluster of ../shared/k8s through kubectl,
a plimsoll serve on loopback, webhook configurations, manifests, and the
"ok - / not ok -" bookkeeping that ends in "N passed, N failed"."""
import base64
import json
import os
import socket
import subprocess
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = {"passed": 0, "failed": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, kit, state):
        self.kit = kit
        self.state = state
        self.kubectl = os.path.join(state, "bin", "kubectl")
        self.kubeconfig = os.path.join(state, "kubeconfig")

    def k(self, *args, input=None, check=False):
        p = subprocess.run([self.kubectl, "--kubeconfig", self.kubeconfig,
                            "--request-timeout=30s", *args], input=input, capture_output=True,
                           text=True, timeout=90)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {p.stderr}")
        return p

    def apply(self, manifest, *extra):
        return self.k("apply", "-f", "-", *extra, input=manifest)

    def restart(self):
        env = dict(os.environ)
        subprocess.run([os.path.join(self.kit, "stop.sh")], env=env, capture_output=True,
                       timeout=120, check=True)
        time.sleep(1)
        p = subprocess.run([os.path.join(self.kit, "start.sh")], env=env, capture_output=True,
                           text=True, timeout=180)
        assert p.returncode == 0, p.stderr[-2000:]


class Plimsoll:
    def __init__(self, binary, workdir, certs, config, kubeconfig, extra=()):
        self.port, self.health = free_port(), free_port()
        self.log_path = os.path.join(workdir, f"plimsoll-{self.port}.log")
        self.log = open(self.log_path, "w")
        args = [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--health-listen",
                f"127.0.0.1:{self.health}", "--tls-cert", os.path.join(certs, "tls.crt"),
                "--tls-key", os.path.join(certs, "tls.key"), "--config", config,
                "--kubeconfig", kubeconfig, "--drain-seconds", "0", *extra]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, self.read_log()
            if self.get("/readyz")[0] == 200:
                return
            time.sleep(0.1)
        raise AssertionError("plimsoll not ready (namespace list?): " + self.read_log()[-2000:])

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return 0, ""

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()
        return self.proc.returncode


def webhook_config(name, port, ca_pem, selector_key="plimsoll.dev/skip", timeout=10):
    ca = base64.b64encode(ca_pem.encode()).decode()
    return f"""
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {name}}}
webhooks:
- name: validate.plimsoll.dev
  admissionReviewVersions: [v1, v1beta1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: {timeout}
  matchPolicy: Equivalent
  namespaceSelector:
    matchExpressions:
    - {{key: {selector_key}, operator: DoesNotExist}}
  rules:
  - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}}
  - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments, statefulsets, daemonsets, replicasets]}}
  - {{apiGroups: [batch], apiVersions: [v1, v1beta1], operations: [CREATE, UPDATE], resources: [jobs, cronjobs]}}
  clientConfig:
    url: https://localhost:{port}/validate
    caBundle: {ca}
"""


def deployment(name, ns, liveness=True, readiness=True, annotations=None, secure=False,
               replicas=2, image="registry.example.com/shop/web:1.4.2", labels=None):
    c = {"name": "web", "image": image,
         "resources": {"requests": {"cpu": "50m", "memory": "32Mi"},
                       "limits": {"memory": "64Mi"}}}
    if liveness:
        c["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": 8080}}
    if readiness:
        c["readinessProbe"] = {"httpGet": {"path": "/ready", "port": 8080}}
    pod_spec = {"containers": [c]}
    if secure:
        c["securityContext"] = {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                                "capabilities": {"drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}}
        pod_spec["automountServiceAccountToken"] = False
    meta = {"labels": labels if labels is not None else
            {"app.kubernetes.io/name": name, "plimsoll.dev/commit": "3f2a9c1"}}
    if annotations:
        meta["annotations"] = annotations
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": name, "namespace": ns},
                       "spec": {"replicas": replicas,
                                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                                "template": {"metadata": meta, "spec": pod_spec}}})


WORKLOAD_RESOURCES = ["pods", "replicationcontrollers", "deployments", "statefulsets",
                      "daemonsets", "replicasets", "jobs", "cronjobs"]


def workload_reader_rbac(name, verbs):
    """A ClusterRole that may only `verbs` the workload kinds (not budgets, autoscalers
    nor NetworkPolicies) and its binding to the kit's namespace reader (whose
    kubeconfig also lists and watches Namespaces), as two manifests to apply."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{"apiGroups": ["", "apps", "batch"], "verbs": verbs,
                       "resources": WORKLOAD_RESOURCES}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": name},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                             "name": "plimsoll-namespace-reader"}]}
    return [json.dumps(role), json.dumps(binding)]


def check(name, fn, *args):
    try:
        fn(*args)
        print(f"ok - {name}", flush=True)
        RESULTS["passed"] += 1
        return True
    except Exception:  # noqa: BLE001 - reported
        print(f"not ok - {name}", flush=True)
        print("    " + traceback.format_exc().replace("\n", "\n    "), flush=True)
        RESULTS["failed"] += 1
        return False


def until(fn, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        ok, last = fn()
        if ok:
            return last
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout}s; last: {last}")
