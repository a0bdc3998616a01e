"""Checks every dashboard file the way a reviewer would before Grafana sees it.

A dashboard must parse, have a unique uid, a title and a schema version; every panel must fit
the 24-column grid, use the provisioned data source and have at least one SQL query with a
known format; every `$variable` must be defined by the dashboard or by Grafana; every
`$__macro(…)` must be one Grafana's PostgreSQL data source knows; time-series queries must
return a time column; every key must be one of Grafana's dashboard schema (dashboards/schema.py,
Grafana's Foundation SDK); and the committed JSON must be what dashboards/build.py generates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from dashboards import build, schema
from dashboards.macros import GLOBALS, MACRO, MACROS, VARIABLE

PROVISIONING = Path(__file__).resolve().parent / "provisioning" / "datasources"
FORMATS = ("table", "time_series")
TIME_COLUMN = re.compile(r"\$__timeGroupAlias\(|\$__time\(|\$__timeEpoch\(|AS\s+\"?time\"?\b",
                         re.IGNORECASE)


def datasource_uids(folder: Path = PROVISIONING) -> set[str]:
    """The uids of the provisioned data sources."""
    uids = set()
    for path in folder.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        uids |= {str(d["uid"]) for d in data.get("datasources", []) if "uid" in d}
    return uids


def _variables_used(text: str) -> set[str]:
    # `$__name(` is a macro (checked on its own), not a variable.
    return {m.group(1) or m.group(2) for m in VARIABLE.finditer(text)
            if not (m.group(2) and m.group(2).startswith("__")
                    and text[m.end():m.end() + 1] == "(")}


def check_dashboard(name: str, model: dict[str, Any], uids: set[str]) -> list[str]:
    """The problems of one dashboard model."""
    problems = []
    for key in ("uid", "title", "schemaVersion", "panels"):
        if key not in model:
            problems.append(f"{name}: no {key!r}")
    if problems:
        return problems
    defined = {v.get("name") for v in model.get("templating", {}).get("list", [])} | GLOBALS
    texts = [model["title"]] + [link.get("url", "") for link in model.get("links", [])]
    ids = set()
    for panel in model["panels"]:
        where = f"{name}: panel {panel.get('id')} {panel.get('title', '')!r}"
        if panel.get("id") in ids:
            problems.append(f"{where}: id repeats")
        ids.add(panel.get("id"))
        grid = panel.get("gridPos", {})
        if grid.get("x", 0) + grid.get("w", 0) > 24 or grid.get("w", 0) <= 0:
            problems.append(f"{where}: does not fit the 24-column grid ({grid})")
        if panel.get("datasource", {}).get("uid") not in uids:
            problems.append(f"{where}: data source {panel.get('datasource')} is not "
                            f"provisioned (known: {', '.join(sorted(uids))})")
        targets = panel.get("targets") or []
        if not targets:
            problems.append(f"{where}: no query")
        texts.append(panel.get("title", ""))
        for target in targets:
            sql = target.get("rawSql", "")
            if not sql.strip():
                problems.append(f"{where}: query {target.get('refId')} has no SQL")
            if target.get("format") not in FORMATS:
                problems.append(f"{where}: format {target.get('format')!r} is not one of "
                                f"{', '.join(FORMATS)}")
            if target.get("datasource", {}).get("uid") not in uids:
                problems.append(f"{where}: query {target.get('refId')} has no provisioned "
                                "data source")
            for macro in MACRO.finditer(sql):
                if macro.group(1) not in MACROS:
                    problems.append(f"{where}: unknown macro ${macro.group(1)}")
            if target.get("format") == "time_series" and not TIME_COLUMN.search(sql):
                problems.append(f"{where}: a time series query needs a time column")
            texts.append(sql)
    for text in texts:
        for variable in sorted(_variables_used(text) - defined):
            problems.append(f"{name}: ${variable} is used but not defined")
    return problems


def check(folder: Path = build.JSON_DIR, *, generated: bool = True) -> list[str]:
    """Every problem of every dashboard file (empty when all is well)."""
    uids = datasource_uids()
    problems: list[str] = []
    seen: dict[str, str] = {}
    files = sorted(folder.glob("*.json"))
    if not files:
        return [f"{folder}: no dashboards (run `bauhof dashboards build`)"]
    for path in files:
        try:
            model = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{path.name}: not JSON: {exc}")
            continue
        problems += check_dashboard(path.name, model, uids)
        problems += schema.problems(path.name, model)
        uid = str(model.get("uid"))
        if uid in seen:
            problems.append(f"{path.name}: uid {uid!r} also used by {seen[uid]}")
        seen[uid] = path.name
    if generated:
        problems += build.differences(folder)
    return problems
