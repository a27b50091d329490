#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data-driven policy cases (STYLE rule 22), run through the real `plimsoll check`.

Layout: test/cases/<policy-id>/NN-name.yaml holds one object (Pod, Deployment, ...)
or an AdmissionReview; NN-name.expected.json holds what must come out:
    {"allowed": false,
     "violations": [{"policy": "...", "path": "...", "message": "..."}],
     "warnings": [...]}            # optional: compared only when present
Each case is evaluated with only its directory's policy on, in enforce mode, with
default parameters, unless NN-name.params.yaml gives that policy's settings
(e.g. {mode: warn, level: baseline}). A case may instead carry a full
configuration in NN-name.config.yaml, used as it is.
Optional NN-name.args: extra `plimsoll check` arguments, one per line (for example
--namespace-annotation=plimsoll.dev/mode=warn).

A case file may hold several documents (a Deployment and the PodDisruptionBudget
beside it: the policies that need the neighbouring objects see the others of the
file). Its expected file then lists every object's verdict, in file order:
    {"allowed": false,                # every object allowed?
     "results": [{"kind": "Deployment", "name": "web", "allowed": true,
                  "violations": [...]}, ...]}

Usage: run.py PLIMSOLL [CASES_DIR] [--filter SUBSTR]
Prints one TAP-like line per case and ends with "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import tempfile


def policy_ids(plimsoll):
    out = subprocess.run([plimsoll, "policies", "--output", "json"], check=True,
                         capture_output=True, text=True).stdout
    return [p["id"] for p in json.loads(out) if p.get("kind", "policy") == "policy"]


def config_for(policy, ids, params_text):
    lines = ["policies:"]
    for pid in ids:
        if pid == policy:
            continue
        lines.append(f"  {pid}: {{mode: off}}")
    if params_text is None:
        lines.append(f"  {policy}: {{mode: enforce}}")
    else:
        lines.append(f"  {policy}:")
        for line in params_text.splitlines():
            lines.append("    " + line)
        if "mode:" not in params_text:
            lines.append("    mode: enforce")
    return "\n".join(lines) + "\n"


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def run_case(plimsoll, ids, policy, case_path):
    base = case_path[:-len(".yaml")]
    expected = json.loads(read(base + ".expected.json"))
    if os.path.exists(base + ".config.yaml"):
        config_text = read(base + ".config.yaml")
    else:
        params = read(base + ".params.yaml") if os.path.exists(base + ".params.yaml") else None
        config_text = config_for(policy, ids, params)
    extra = []
    if os.path.exists(base + ".args"):
        extra = [a for a in read(base + ".args").splitlines() if a.strip()]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as cfg:
        cfg.write(config_text)
        cfg_path = cfg.name
    try:
        proc = subprocess.run([plimsoll, "check", "--config", cfg_path, "--output", "json",
                               *extra, case_path], capture_output=True, text=True)
    finally:
        os.unlink(cfg_path)
    if proc.returncode not in (0, 1):
        return f"plimsoll check exited {proc.returncode}: {proc.stderr.strip()}"
    results = json.loads(proc.stdout)["results"]
    if "results" in expected:
        want_all = expected["results"]
        if len(results) != len(want_all):
            return f"expected {len(want_all)} objects in the case file, found {len(results)}"
        problems = []
        if expected.get("allowed") != all(r["allowed"] for r in results):
            problems.append(f"allowed (every object): want {expected.get('allowed')}")
        for i, (want, got) in enumerate(zip(want_all, results)):
            for key in ("kind", "name"):
                if key in want and want[key] != got[key]:
                    problems.append(f"object {i}: {key}: want {want[key]}, got {got[key]}")
            problem = compare(want, got)
            if problem:
                problems.append(f"object {i} ({got['kind']} {got['name']}): {problem}")
        return "; ".join(problems) if problems else None
    if len(results) != 1:
        return f"expected one object in the case file, found {len(results)}"
    return compare(expected, results[0])


def compare(expected, got):
    """What differs between one object's expected verdict and plimsoll's result."""
    problems = []
    if got["allowed"] != expected["allowed"]:
        problems.append(f"allowed: want {expected['allowed']}, got {got['allowed']}")
    want_v = [(v["policy"], v["path"], v["message"]) for v in expected.get("violations", [])]
    got_v = [(v["policy"], v["path"], v["message"]) for v in got["violations"]]
    if want_v != got_v:
        problems.append("violations differ:\n    want " + json.dumps(want_v, indent=None) +
                        "\n    got  " + json.dumps(got_v, indent=None))
    if "warnings" in expected and expected["warnings"] != got["warnings"]:
        problems.append("warnings differ:\n    want " + json.dumps(expected["warnings"]) +
                        "\n    got  " + json.dumps(got["warnings"]))
    return "; ".join(problems) if problems else None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--filter")]
    filt = None
    for i, a in enumerate(sys.argv):
        if a == "--filter" and i + 1 < len(sys.argv):
            filt = sys.argv[i + 1]
            args.remove(filt)
    if not args:
        print(__doc__)
        return 2
    plimsoll = args[0]
    cases_dir = args[1] if len(args) > 1 else os.path.dirname(os.path.abspath(__file__))
    ids = policy_ids(plimsoll)
    passed = failed = 0
    seen_dirs = set()
    for policy in sorted(os.listdir(cases_dir)):
        pdir = os.path.join(cases_dir, policy)
        if not os.path.isdir(pdir):
            continue
        seen_dirs.add(policy)
        if policy not in ids:
            print(f"not ok - {policy}: directory names no policy")
            failed += 1
            continue
        for name in sorted(os.listdir(pdir)):
            if not name.endswith(".yaml") or name.endswith((".params.yaml", ".config.yaml")):
                continue
            label = f"{policy}/{name}"
            if filt and filt not in label:
                continue
            try:
                problem = run_case(plimsoll, ids, policy, os.path.join(pdir, name))
            except Exception as e:  # a broken case file is a failure, not a crash
                problem = f"{type(e).__name__}: {e}"
            if problem:
                print(f"not ok - {label}: {problem}")
                failed += 1
            else:
                print(f"ok - {label}")
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
