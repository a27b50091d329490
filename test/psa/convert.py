#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs upstream Pod Security Admission fixtures through `plimsoll check`.

Upstream (k8s.io/pod-security-admission, test/testdata) generates one pod per file at
<level>/v1.<minor>/{pass,fail}/<name>.yaml: a pod under pass/ must be allowed at that
level, one under fail/ rejected. This script evaluates each file with only the
pod-security policy on (enforce, level taken from the path; every other policy off),
compares allowed/rejected with the directory, and ends with "N passed, N failed".

Fixtures whose verdict upstream's `latest` no longer gives (an older version's rule
that a later version changed, or a pre-merge revision of a check) are listed in
known-differences.txt beside this script, one "<path relative to testdata> <reason>"
a line; they are reported as skipped and do not count.

Usage: convert.py PLIMSOLL [TESTDATA_DIR] [--filter SUBSTR] [--quiet]
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def policy_ids(plimsoll):
    out = subprocess.run([plimsoll, "policies", "--output", "json"], check=True,
                         capture_output=True, text=True).stdout
    return [p["id"] for p in json.loads(out) if p.get("kind", "policy") == "policy"]


def config_text(ids, level):
    lines = ["policies:"]
    for pid in ids:
        if pid != "pod-security":
            lines.append(f"  {pid}: {{mode: off}}")
    lines.append(f"  pod-security: {{mode: enforce, level: {level}}}")
    return "\n".join(lines) + "\n"


def known_differences():
    path = os.path.join(HERE, "known-differences.txt")
    known = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    rel, _, reason = line.partition(" ")
                    known[rel] = reason.strip()
    return known


def fixtures(root):
    """Yields (relative path, level, expect_allowed) for every fixture under root."""
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".yaml"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            parts = rel.split(os.sep)
            if len(parts) < 4 or parts[0] not in ("baseline", "restricted") \
                    or parts[2] not in ("pass", "fail"):
                continue
            yield rel, parts[0], parts[2] == "pass"


def version_key(rel):
    parts = rel.split(os.sep)
    try:
        minor = int(parts[1].split(".")[1])
    except (IndexError, ValueError):
        minor = -1
    return (parts[0], minor, parts[2], parts[-1])


def check(plimsoll, cfg_path, path):
    proc = subprocess.run([plimsoll, "check", "--config", cfg_path, "--output", "json", path],
                          capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"plimsoll check exited {proc.returncode}: {proc.stderr.strip()}")
    results = json.loads(proc.stdout)["results"]
    if len(results) != 1:
        raise RuntimeError(f"expected one object, found {len(results)}")
    return results[0]


def main():
    argv = sys.argv[1:]
    filt = None
    if "--filter" in argv:
        i = argv.index("--filter")
        filt = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i:i + 2]
    quiet = "--quiet" in argv
    argv = [a for a in argv if a != "--quiet"]
    if not argv:
        print(__doc__)
        return 2
    plimsoll = argv[0]
    root = argv[1] if len(argv) > 1 else os.path.join(HERE, "testdata")
    ids = policy_ids(plimsoll)
    known = known_differences()
    cfgs = {}
    passed = failed = skipped = 0
    try:
        for level in ("baseline", "restricted"):
            with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as cfg:
                cfg.write(config_text(ids, level))
                cfgs[level] = cfg.name
        for rel, level, want in sorted(fixtures(root), key=lambda t: version_key(t[0])):
            if filt and filt not in rel:
                continue
            if rel in known:
                print(f"skip - {rel}: {known[rel]}")
                skipped += 1
                continue
            try:
                got = check(plimsoll, cfgs[level], os.path.join(root, rel))
                problem = None
                if got["allowed"] != want:
                    problem = (f"want {'allowed' if want else 'rejected'}, got "
                               f"{'allowed' if got['allowed'] else 'rejected'}")
                    if got["violations"]:
                        problem += ": " + "; ".join(
                            f"{v['path']}: {v['message']}" for v in got["violations"])
            except Exception as e:  # a broken fixture is a failure, not a crash
                problem = f"{type(e).__name__}: {e}"
            if problem:
                print(f"not ok - {rel}: {problem}")
                failed += 1
            else:
                if not quiet:
                    print(f"ok - {rel}")
                passed += 1
    finally:
        for path in cfgs.values():
            os.unlink(path)
    print(f"{skipped} skipped (known-differences.txt)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
