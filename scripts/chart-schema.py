#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the policy part of charts/plimsoll/values.schema.json from the one table.

The chart's schema checks `config:` (policy and mutation ids, modes, parameters,
exemptions.allow, controllers.enforce-on-pods). All of that is read here from
`plimsoll policies --output json`, which reads the policy descriptors, so the
schema cannot drift from what the server accepts.

Usage: chart-schema.py PLIMSOLL [--check]
  PLIMSOLL  the built binary (build/cli/plimsoll)
  --check   write nothing; exit 1 and show the difference when the file is stale
            (the helm suite runs this)
"""
import difflib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "charts", "plimsoll", "values.schema.json")
MODES = {"enum": ["enforce", "warn", "off"]}


def entry(e, switch_key, switch_schema):
    props = {switch_key: switch_schema}
    for q in e["parameters"]:
        props[q["name"]] = q["schema"]
    return {"type": "object", "properties": props, "additionalProperties": False,
            "description": e["summary"]}


def render(binary):
    table = json.loads(subprocess.run([binary, "policies", "--output", "json"], check=True,
                                      capture_output=True, text=True).stdout)
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    config = schema["properties"]["config"]["properties"]
    policies = [e for e in table if e["kind"] == "policy"]
    mutations = [e for e in table if e["kind"] == "mutation"]
    config["policies"]["properties"] = {e["id"]: entry(e, "mode", MODES) for e in policies}
    ids = [e["id"] for e in policies]
    config["exemptions"]["properties"]["allow"]["items"] = {"enum": ids}
    config["controllers"]["properties"]["enforce-on-pods"]["items"] = {"enum": ids}
    muts = config["mutations"]["properties"]
    templates = muts.get("mutate-templates")
    muts.clear()
    for e in mutations:
        muts[e["id"]] = entry(e, "enabled", {"type": "boolean"})
    if templates is not None:
        muts["mutate-templates"] = templates
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main():
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    new = render(sys.argv[1])
    with open(SCHEMA, encoding="utf-8") as f:
        old = f.read()
    if "--check" in sys.argv[2:]:
        if old == new:
            print("ok - charts/plimsoll/values.schema.json agrees with plimsoll policies")
            return 0
        sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                                   "values.schema.json", "from plimsoll policies"))
        print("not ok - charts/plimsoll/values.schema.json is stale: run scripts/chart-schema.py "
              "build/cli/plimsoll")
        return 1
    if old != new:
        with open(SCHEMA, "w", encoding="utf-8") as f:
            f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
