#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data-driven mutation cases, checked with an independent JSON-Patch library.

Each case runs test/mutate/mutate_tool (pl_mutate(), and pl_mutate_in_place()
as POST /mutate runs it)
and applies the returned RFC 6902 patch with python3-jsonpatch, then checks:

  * every operation is an "add" that creates something absent (or a "replace"
    where the case allows it): what the user set is never replaced;
  * the patch applies cleanly (missing maps and arrays are created first,
    "~" and "/" in keys are escaped);
  * the applied result, and/or the exact patch, equal the expected ones;
  * reinvocation: mutating the result again gives an empty patch;
  * the AdmissionReview path (v1 and v1beta1; in place, as the server does
    it): the response echoes uid and apiVersion, and carries the same patch base64-encoded with
    patchType JSONPatch, or no patch at all when the patch is empty.

Layout: test/cases-mutate/<group>/NN-name.yaml holds one object, beside
NN-name.expected.yaml:
    result: {...}          # the object after the patch (optional)
    patch: [...]           # the exact patch (optional)
    allow-replace: true    # optional: "replace" operations may occur
    error: "text"          # optional: pl_mutate() must fail with this text
When <group> is a mutation id, the case runs with only that mutation on and
mutations.mutate-templates: true; NN-name.params.yaml adds that mutation's
parameters. NN-name.config.yaml instead gives the whole configuration.
NN-name.args: extra mutate_tool arguments, one per line: --operation=UPDATE,
--namespace=NS, --old=FILE (relative to the case; name it NN-name.old.yaml),
--ns-annotation=K=V.

Usage: run.py MUTATE_TOOL|BUILD_DIR [CASES_DIR] [--filter SUBSTR]
Ends with "N passed, N failed"; exits 77 (skipped) without python3-jsonpatch.
"""
import base64
import copy
import json
import os
import subprocess
import sys
import tempfile

try:
    import jsonpatch
    import jsonpointer
    import yaml
except ImportError as e:  # pragma: no cover
    print(f"skipping: {e} (apt-get install python3-jsonpatch python3-yaml)")
    sys.exit(77)

MUTATION_IDS = ("inject-commit", "inject-security-defaults", "inject-tracing")
# Files beside a case that are not cases themselves (NN-name.old.yaml: an --old object).
AUX_SUFFIXES = (".expected.yaml", ".params.yaml", ".config.yaml", ".old.yaml")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def config_for(group, params_text):
    if group not in MUTATION_IDS:
        raise ValueError(f"group {group} is not a mutation id: the case needs a .config.yaml")
    lines = ["mutations:", "  mutate-templates: true"]
    for mid in MUTATION_IDS:
        if mid != group:
            lines.append(f"  {mid}: {{enabled: false}}")
    lines.append(f"  {group}:")
    lines.append("    enabled: true")
    for line in (params_text or "").splitlines():
        lines.append("    " + line)
    return "\n".join(lines) + "\n"


def run_tool(tool, config, args, path):
    proc = subprocess.run([tool, "--config", config, *args, path],
                          capture_output=True, text=True)
    return proc


def check_only_adds(obj, patch, allow_replace):
    """Applies patch op by op, checking that no op replaces an existing value."""
    doc = copy.deepcopy(obj)
    for i, op in enumerate(patch):
        kind = op.get("op")
        path = op.get("path", "")
        if kind == "replace" and allow_replace:
            pass
        elif kind != "add":
            return f"operation {i} is {kind!r}, only 'add' is allowed: {op}"
        elif not path.endswith("/-"):
            try:
                existing = jsonpointer.resolve_pointer(doc, path)
            except jsonpointer.JsonPointerException:
                existing = KeyError
            if existing is not KeyError and existing is not None:
                return f"operation {i} replaces the existing value {existing!r}: {op}"
        try:
            # jsonpatch puts the op's value into the document by reference: copy it.
            doc = jsonpatch.apply_patch(doc, [copy.deepcopy(op)])
        except Exception as e:  # jsonpatch raises several exception types
            return f"operation {i} does not apply: {e}: {op}"
    return None


def split_args(base, arg_lines):
    tool_args, review = [], {"operation": "CREATE", "namespace": None, "old": None}
    for a in arg_lines:
        if a.startswith("--old="):
            path = os.path.join(os.path.dirname(base), a[len("--old="):])
            tool_args.append("--old=" + path)
            review["old"] = path
        else:
            tool_args.append(a)
            if a.startswith("--operation="):
                review["operation"] = a[len("--operation="):]
            elif a.startswith("--namespace="):
                review["namespace"] = a[len("--namespace="):]
    return tool_args, review


def check_review(tool, cfg_path, tool_args, review_info, obj, patch, api_version, tmpdir):
    request = {"uid": "case-uid-1", "kind": {"group": "", "version": "v1",
                                             "kind": obj.get("kind", "")},
               "operation": review_info["operation"], "object": obj,
               "userInfo": {"username": "case"}}
    ns = review_info["namespace"] or obj.get("metadata", {}).get("namespace")
    if ns:
        request["namespace"] = ns
    if review_info["old"]:
        out = run_tool(tool, cfg_path, [], review_info["old"])
        request["oldObject"] = json.loads(out.stdout)["object"]
    review = {"apiVersion": api_version, "kind": "AdmissionReview", "request": request}
    path = os.path.join(tmpdir, "review.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(review, f)
    keep = [a for a in tool_args if a.startswith("--ns-annotation=")]
    proc = run_tool(tool, cfg_path, keep, path)
    if proc.returncode != 0:
        return f"review mode exited {proc.returncode}: {proc.stderr.strip()}"
    resp = json.loads(proc.stdout)
    if resp.get("apiVersion") != api_version or resp.get("kind") != "AdmissionReview":
        return f"response apiVersion/kind wrong: {resp.get('apiVersion')} {resp.get('kind')}"
    r = resp.get("response", {})
    if r.get("uid") != "case-uid-1" or r.get("allowed") is not True:
        return f"response uid/allowed wrong: {r}"
    if not patch:
        if "patch" in r or "patchType" in r:
            return f"an empty patch must not be sent: {r}"
        return None
    if r.get("patchType") != "JSONPatch":
        return f"patchType is {r.get('patchType')!r}"
    sent = json.loads(base64.b64decode(r["patch"], validate=True))
    if sent != patch:
        return f"review patch differs from the object-mode patch:\n  {sent}\n  {patch}"
    return None


def run_case(tool, group, case_path):
    base = case_path[:-len(".yaml")]
    expected = yaml.safe_load(read(base + ".expected.yaml")) or {}
    if os.path.exists(base + ".config.yaml"):
        config_text = read(base + ".config.yaml")
    else:
        params = read(base + ".params.yaml") if os.path.exists(base + ".params.yaml") else None
        config_text = config_for(group, params)
    arg_lines = []
    if os.path.exists(base + ".args"):
        arg_lines = [a.strip() for a in read(base + ".args").splitlines() if a.strip()]
    tool_args, review_info = split_args(base, arg_lines)
    with tempfile.TemporaryDirectory() as tmpdir:
        cfg_path = os.path.join(tmpdir, "config.yaml")
        with open(cfg_path, "w", encoding="utf-8") as f:
            f.write(config_text)
        proc = run_tool(tool, cfg_path, tool_args, case_path)
        if "error" in expected:
            if proc.returncode != 1 or expected["error"] not in proc.stderr:
                return f"expected failure with {expected['error']!r}, got exit " \
                       f"{proc.returncode}: {proc.stderr.strip()}"
            return None
        if proc.returncode != 0:
            return f"mutate_tool exited {proc.returncode}: {proc.stderr.strip()}"
        out = json.loads(proc.stdout)
        obj, patch = out["object"], out["patch"]
        problem = check_only_adds(obj, patch, expected.get("allow-replace", False))
        if problem:
            return problem
        try:
            result = jsonpatch.apply_patch(obj, copy.deepcopy(patch))
        except Exception as e:
            return f"the patch does not apply with python3-jsonpatch: {e}"
        if "patch" in expected and patch != expected["patch"]:
            return "patch differs:\n  got:      " + json.dumps(patch) + \
                   "\n  expected: " + json.dumps(expected["patch"])
        if "result" in expected and result != expected["result"]:
            return "result differs:\n  got:      " + json.dumps(result, sort_keys=True) + \
                   "\n  expected: " + json.dumps(expected["result"], sort_keys=True)
        # Reinvocation: the API server may call again with our own output.
        again_path = os.path.join(tmpdir, "again.json")
        with open(again_path, "w", encoding="utf-8") as f:
            json.dump(result, f)
        again = run_tool(tool, cfg_path, tool_args, again_path)
        if again.returncode != 0:
            return f"reinvocation exited {again.returncode}: {again.stderr.strip()}"
        second = json.loads(again.stdout)["patch"]
        if second:
            return "reinvocation is not idempotent, second patch: " + json.dumps(second)
        for api_version in ("admission.k8s.io/v1", "admission.k8s.io/v1beta1"):
            problem = check_review(tool, cfg_path, tool_args, review_info, obj, patch,
                                   api_version, tmpdir)
            if problem:
                return f"{api_version}: {problem}"
    return None


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--filter")]
    filt = None
    for i, a in enumerate(argv):
        if a.startswith("--filter="):
            filt = a.split("=", 1)[1]
        elif a == "--filter" and i + 1 < len(argv):
            filt = argv[i + 1]
            if filt in args:
                args.remove(filt)
    if not args:
        print(__doc__)
        return 2
    tool = args[0]
    if os.path.isdir(tool):  # a build directory: the tool is built under test/unit/engine
        tool = os.path.join(tool, "test", "unit", "engine", "mutate_tool")
    root = args[1] if len(args) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "cases-mutate")
    passed = failed = 0
    for group in sorted(os.listdir(root)):
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir):
            continue
        for name in sorted(os.listdir(gdir)):
            if not name.endswith(".yaml") or name.endswith(AUX_SUFFIXES):
                continue
            case = os.path.join(gdir, name)
            label = f"{group}/{name[:-5]}"
            if filt and filt not in label:
                continue
            if not os.path.exists(case[:-5] + ".expected.yaml"):
                continue
            try:
                problem = run_case(tool, group, case)
            except Exception as e:  # a broken case file is a failure, not a crash
                problem = f"{type(e).__name__}: {e}"
            if problem:
                failed += 1
                print(f"not ok - {label}\n    " + problem.replace("\n", "\n    "))
            else:
                passed += 1
                print(f"ok - {label}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
