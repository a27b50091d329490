# SPDX-License-Identifier: Apache-2.0
"""Certificate rotation to a new CA and back, with the real kube-apiserver calling plimsoll.

The procedure of docs/design/certificates.md ("secret" mode), step by step: the
caBundle first holds the old and the new CA, then the serving files are swapped,
then the caBundle holds the new CA alone; and back again, the way back reusing
the first CA through `plimsoll certs generate --ca-cert/--ca-key`. plimsoll closes
idle connections after a second and requests are spaced wider than that, so
every request is a new TLS handshake the API server verifies against the
caBundle in force. Every request is counted: each must be admitted, and plimsoll
must have answered exactly as many dry-run reviews as were sent.

Then the mistake of the issue: a caBundle that does not sign the served
certificate. Every request fails, in kubectl with the API server's x509 error,
and in plimsoll as failed handshakes (counted by reason, and logged); putting the
right caBundle back heals it.
"""
import json
import os
import re
import shutil
import subprocess
import time

from e2elib import Plimsoll, check, until, webhook_config

NS = "e2e-rotation"
PER_STEP = 3         # requests per step
SPACING_S = 2.2      # wider than --connection-timeout 1: a new handshake each time


def _pod(i):
    return json.dumps({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": f"rot-{i}", "namespace": NS},
                       "spec": {"containers": [{"name": "c", "image": "registry.example.com/c:1"}]}})


def _metric(pl, name, labels=""):
    _, text = pl.get("/metrics")
    total = 0.0
    for m in re.finditer(r"^" + re.escape(name) + r"\{([^}]*)\} (\S+)$", text, re.M):
        if all(part in m.group(1) for part in labels.split(",") if part):
            total += float(m.group(2))
    return total


def rotation_scenario(cl, binary, work):
    pem = {}
    for ca in ("a", "b"):
        out = os.path.join(work, f"ca-{ca}")
        subprocess.run([binary, "certs", "generate", "--service", "plimsoll", "--namespace",
                        "plimsoll-system", "--out", out, "--dns", "localhost", "--write-ca-key"],
                       check=True, capture_output=True)
        pem[ca] = open(os.path.join(out, "ca.crt")).read()
    served = os.path.join(work, "rotation-served")
    os.makedirs(served, exist_ok=True)

    def serve(src):
        """Swaps the served pair like a Secret volume update (new files renamed in)."""
        for f in ("tls.crt", "tls.key"):
            shutil.copy(os.path.join(src, f), os.path.join(served, f + ".new"))
            os.rename(os.path.join(served, f + ".new"), os.path.join(served, f))

    serve(os.path.join(work, "ca-a"))
    shutil.copy(os.path.join(work, "ca-a", "ca.crt"), os.path.join(served, "ca.crt"))
    config = os.path.join(work, "rotation.yaml")
    policies = json.loads(subprocess.run([binary, "policies", "--output", "json"],
                                         capture_output=True, text=True, check=True).stdout)
    with open(config, "w") as f:   # every policy off: each review is simply "allowed"
        f.write("policies:\n" + "".join(f"  {p['id']}: {{mode: off}}\n" for p in policies
                                         if p.get("kind", "policy") == "policy"))
    pl = Plimsoll(binary, work, served, config,
                  os.path.join(cl.state, "kubeconfig-namespace-reader"),
                  extra=["--connection-timeout", "1"])
    cl.apply(json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
    counter = [0]
    log = []   # (step, request number, ok, stderr)

    def bundle(*cas):
        p = cl.apply(webhook_config("plimsoll-rotation", pl.port, "".join(pem[c] for c in cas),
                                    timeout=5))
        assert p.returncode == 0, p.stderr

    def request():
        counter[0] += 1
        p = cl.k("create", "--dry-run=server", "-o", "name", "-f", "-", input=_pod(counter[0]))
        return p.returncode == 0, p.stderr.strip()

    def step(name, expect_ok=True):
        for _ in range(PER_STEP):
            time.sleep(SPACING_S)
            ok, err = request()
            log.append((name, counter[0], ok, err))
            assert ok == expect_ok, f"{name}: request {counter[0]}: {err or 'admitted'}"

    def swap(src):
        before = _metric(pl, "plimsoll_certificate_reloads_total", 'result="success"')
        serve(src)
        until(lambda: ((lambda v: (v == before + 1, v))(
            _metric(pl, "plimsoll_certificate_reloads_total", 'result="success"'))), 10,
              "plimsoll reloaded the swapped certificate")

    reviews = 'dry_run="true"'

    def to_new_ca_and_back():
        answered0 = _metric(pl, "plimsoll_admission_requests_total", reviews)
        bundle("a")
        # The webhook takes effect once the API server's informer has it.
        until(request, 20, "the API server calls plimsoll")
        answered0 = _metric(pl, "plimsoll_admission_requests_total", reviews)
        sent0 = counter[0]
        step("CA a, serving a")
        bundle("a", "b")
        step("caBundle a+b, serving a")
        swap(os.path.join(work, "ca-b"))
        step("caBundle a+b, serving b")
        bundle("b")
        step("caBundle b, serving b")
        # And back: a new serving certificate from the first CA, reused.
        back = os.path.join(work, "back-to-a")
        p = subprocess.run([binary, "certs", "generate", "--service", "plimsoll", "--namespace",
                            "plimsoll-system", "--out", back, "--dns", "localhost", "--ca-cert",
                            os.path.join(work, "ca-a", "ca.crt"), "--ca-key",
                            os.path.join(work, "ca-a", "ca.key"), "--days", "30"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        bundle("b", "a")
        step("caBundle b+a, serving b")
        swap(back)
        step("caBundle b+a, serving a (renewed)")
        bundle("a")
        step("caBundle a, serving a (renewed)")
        sent = counter[0] - sent0
        assert all(ok for _, _, ok, _ in log), [x for x in log if not x[2]]
        assert sent == 7 * PER_STEP, sent
        # Request by request: plimsoll answered every dry-run create the API server sent.
        answered = _metric(pl, "plimsoll_admission_requests_total", reviews) - answered0
        assert answered == sent, (answered, sent)
        assert _metric(pl, "plimsoll_tls_handshake_failures_total",
                       'reason="closed-after-certificate"') == 0, pl.get("/metrics")[1][-3000:]

    def wrong_ca_bundle_fails_loudly():
        failures0 = _metric(pl, "plimsoll_tls_handshake_failures_total",
                            'reason="closed-after-certificate"')
        bundle("b")   # while plimsoll serves a certificate of CA a

        def refused():
            ok, err = request()
            return not ok and "x509" in err, err
        err = until(refused, 20, "the API server refuses plimsoll's certificate")
        assert "certificate signed by unknown authority" in err, err
        step("caBundle b, serving a: the mistake", expect_ok=False)
        for _, _, _, e in log[-PER_STEP:]:
            assert 'failed calling webhook "validate.plimsoll.dev"' in e and "x509" in e, e
        failures = _metric(pl, "plimsoll_tls_handshake_failures_total",
                           'reason="closed-after-certificate"')
        assert failures - failures0 >= PER_STEP + 1, (failures, failures0)
        lines = [json.loads(x) for x in pl.read_log().splitlines() if '"TLS handshake failed"' in x]
        assert lines and "caBundle" in lines[0]["error"], lines
        bundle("a")
        until(request, 20, "the right caBundle heals it")
        step("caBundle a again, serving a")

    ok = check("CA rotation to a new CA and back through the real API server, every request "
               "admitted and answered by plimsoll", to_new_ca_and_back)
    ok = check("a caBundle that does not sign the served certificate: every request refused, "
               "counted and logged as failed handshakes; the right one heals it",
               wrong_ca_bundle_fails_loudly) and ok
    cl.k("delete", "validatingwebhookconfiguration", "plimsoll-rotation", "--ignore-not-found")
    pl.stop()
    for name, n, ok_, err in log:
        print(f"    # {n:3d} {'admitted' if ok_ else 'refused '}  {name}"
              + ("" if ok_ else f": {err[-120:]}"))
    if not ok:
        print("    plimsoll log tail:\n    " + pl.read_log()[-3000:].replace("\n", "\n    "))
