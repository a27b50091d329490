# SPDX-License-Identifier: Apache-2.0
"""What GitHub code scanning requires of an uploaded SARIF file, checked by hand.

GitHub's "SARIF support for code scanning" lists the properties it reads; an upload
without them is refused or its alerts cannot be placed on a line. validate(doc)
returns a list of problems (empty when the document passes):

- version "2.1.0"; 1..20 runs; runs[].tool.driver.name;
- every rule: id (unique), shortDescription.text (<= 1024), fullDescription.text,
  helpUri (absolute), defaultConfiguration.level in the allowed set, <= 20 tags;
- every result: ruleId naming a rule of the run (ruleIndex, when there, pointing at
  it), message.text, level in {none, note, warning, error}, 1..1000 locations each
  with physicalLocation.artifactLocation.uri RELATIVE (no scheme, no leading "/")
  and uriBaseId declared in originalUriBaseIds, region.startLine >= 1 (startColumn
  >= 1 when there), partialFingerprints of strings, suppressions[].kind in
  {inSource, external};
- <= 25,000 results and rules per run.

schema_problems(doc) also validates against sarif-minimal.schema.json (beside this
file) when the jsonschema package is importable; it returns None when it is not.
"""
import json
import os
import re

LEVELS = {"none", "note", "warning", "error"}
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
HERE = os.path.dirname(os.path.abspath(__file__))


def _text(obj, key):
    v = (obj or {}).get(key)
    return isinstance(v, dict) and isinstance(v.get("text"), str) and v["text"] != ""


def _rule_problems(i, rule, seen):
    p = []
    rid = rule.get("id")
    if not isinstance(rid, str) or not rid:
        p.append(f"rules[{i}]: no id")
    elif rid in seen:
        p.append(f"rules[{i}]: id {rid} twice")
    seen.add(rid)
    if not _text(rule, "shortDescription") or len(rule["shortDescription"]["text"]) > 1024:
        p.append(f"rule {rid}: shortDescription.text missing or longer than 1024")
    if not _text(rule, "fullDescription"):
        p.append(f"rule {rid}: no fullDescription.text")
    if not isinstance(rule.get("helpUri"), str) or not SCHEME.match(rule["helpUri"]):
        p.append(f"rule {rid}: helpUri missing or not absolute")
    level = (rule.get("defaultConfiguration") or {}).get("level", "warning")
    if level not in LEVELS:
        p.append(f"rule {rid}: defaultConfiguration.level {level!r}")
    if len((rule.get("properties") or {}).get("tags", [])) > 20:
        p.append(f"rule {rid}: more than 20 tags")
    return p


def _location_problems(where, loc, base_ids):
    p = []
    phys = loc.get("physicalLocation")
    if not isinstance(phys, dict):
        return [f"{where}: no physicalLocation"]
    art = phys.get("artifactLocation") or {}
    uri = art.get("uri")
    if not isinstance(uri, str) or not uri:
        p.append(f"{where}: no artifactLocation.uri")
    elif SCHEME.match(uri) or uri.startswith("/") or uri in ("-",):
        p.append(f"{where}: artifactLocation.uri {uri!r} is not a relative path")
    elif re.search(r"[ <>\"{}|\\^`]", uri):
        p.append(f"{where}: artifactLocation.uri {uri!r} is not percent-encoded")
    if "uriBaseId" in art and art["uriBaseId"] not in base_ids:
        p.append(f"{where}: uriBaseId {art['uriBaseId']!r} not in originalUriBaseIds")
    region = phys.get("region")
    if not isinstance(region, dict):
        p.append(f"{where}: no region")
    else:
        line = region.get("startLine")
        if not isinstance(line, int) or isinstance(line, bool) or line < 1:
            p.append(f"{where}: region.startLine {line!r}")
        col = region.get("startColumn", 1)
        if not isinstance(col, int) or col < 1:
            p.append(f"{where}: region.startColumn {col!r}")
    return p


def _result_problems(j, res, rules, base_ids):
    p = []
    where = f"results[{j}]"
    rid = res.get("ruleId")
    ids = [r.get("id") for r in rules]
    if rid not in ids:
        p.append(f"{where}: ruleId {rid!r} is not a rule of the run")
    if "ruleIndex" in res and (not isinstance(res["ruleIndex"], int) or
                               res["ruleIndex"] >= len(ids) or ids[res["ruleIndex"]] != rid):
        p.append(f"{where}: ruleIndex does not point at {rid}")
    if not _text(res, "message"):
        p.append(f"{where}: no message.text")
    if res.get("level", "warning") not in LEVELS:
        p.append(f"{where}: level {res.get('level')!r}")
    locs = res.get("locations")
    if not isinstance(locs, list) or not 1 <= len(locs) <= 1000:
        p.append(f"{where}: needs 1 to 1000 locations")
        locs = []
    for k, loc in enumerate(locs):
        p += _location_problems(f"{where}.locations[{k}]", loc, base_ids)
    fps = res.get("partialFingerprints", {})
    if not isinstance(fps, dict) or not all(isinstance(v, str) for v in fps.values()):
        p.append(f"{where}: partialFingerprints must map to strings")
    for s in res.get("suppressions", []):
        if s.get("kind") not in ("inSource", "external"):
            p.append(f"{where}: suppression kind {s.get('kind')!r}")
    return p


def validate(doc):
    """The problems GitHub code scanning would have with doc (a parsed SARIF file)."""
    if doc.get("version") != "2.1.0":
        return [f"version {doc.get('version')!r}, not 2.1.0"]
    runs = doc.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= 20:
        return ["runs: needs 1 to 20"]
    problems = []
    for run in runs:
        driver = (run.get("tool") or {}).get("driver") or {}
        if not isinstance(driver.get("name"), str) or not driver["name"]:
            problems.append("runs[].tool.driver.name missing")
        rules = driver.get("rules", [])
        results = run.get("results")
        if not isinstance(results, list):
            problems.append("runs[].results missing")
            results = []
        if len(rules) > 25000 or len(results) > 25000:
            problems.append("more than 25,000 rules or results in a run")
        seen = set()
        for i, rule in enumerate(rules):
            problems += _rule_problems(i, rule, seen)
        base_ids = run.get("originalUriBaseIds", {})
        for name, base in base_ids.items():
            if not str(base.get("uri", "")).endswith("/"):
                problems.append(f"originalUriBaseIds[{name}].uri must end with /")
        for j, res in enumerate(results):
            problems += _result_problems(j, res, rules, base_ids)
    return problems


def schema_problems(doc):
    """Problems found by jsonschema against sarif-minimal.schema.json; None without jsonschema."""
    try:
        import jsonschema
    except ImportError:
        return None
    with open(os.path.join(HERE, "sarif-minimal.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]
