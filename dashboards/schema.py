"""The dashboards' JSON checked against Grafana's own dashboard schema: the typed models of
Grafana's Foundation SDK (`grafana-foundation-sdk`, generated from Grafana's schemas; the
11.3 build, the Grafana that compose runs).

A dashboard is read into the SDK's `Dashboard` model and written back: every key the JSON
has must survive the round trip with its value. A key Grafana's schema does not know (a typo
such as `gridPos.wide` or `fieldConfig.defaults.unitt`) is dropped by the model, and named
here. We keep generating the JSON with our small model (dashboards/model.py), which stays
reviewable; the SDK is the referee, not the author.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.models import dashboard as grafana

# The SDK release, as pinned in pyproject.toml (its version is "<epoch>!<Grafana version>").
GRAFANA_SCHEMA = "11.3"


def _plain(value: Any) -> Any:
    """The SDK's models as plain JSON values."""
    return json.loads(json.dumps(value, default=lambda o: o.to_json()))


def _compare(ours: Any, theirs: Any, path: str, out: list[str]) -> None:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key, value in ours.items():
            if key not in theirs:
                out.append(f"{path}.{key}: not in Grafana's dashboard schema")
            else:
                _compare(value, theirs[key], f"{path}.{key}", out)
    elif isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            out.append(f"{path}: {len(ours)} items, Grafana's model keeps {len(theirs)}")
        for index, (a, b) in enumerate(zip(ours, theirs, strict=False)):
            _compare(a, b, f"{path}[{index}]", out)
    elif ours != theirs:
        out.append(f"{path}: {ours!r} reads back as {theirs!r} in Grafana's schema")


def problems(name: str, model: dict[str, Any]) -> list[str]:
    """What of this dashboard model Grafana's dashboard schema does not keep (empty: all)."""
    try:
        parsed = grafana.Dashboard.from_json(model)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"{name}: Grafana's dashboard schema cannot read it: {exc!r}"]
    out: list[str] = []
    _compare(model, _plain(parsed.to_json()), name, out)
    return out
