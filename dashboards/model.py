"""A typed model of the parts of Grafana's dashboard JSON (schema version 39) Bauhof uses.

Every panel reads the provisioned TimescaleDB data source with raw SQL. A query also carries
the columns it must return (`columns`, name → kind), which the tests check against a real
database; that list is not part of the JSON Grafana sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "bauhof-timescaledb"}
SCHEMA_VERSION = 39
Kind = Literal["time", "number", "text", "bool"]


@dataclass(frozen=True, slots=True)
class Query:
    """One SQL query of a panel; format `table` or `time_series`."""

    sql: str
    columns: tuple[tuple[str, Kind], ...]
    format: Literal["table", "time_series"] = "table"
    ref_id: str = "A"

    def to_json(self) -> dict[str, Any]:
        """The panel target."""
        return {"refId": self.ref_id, "datasource": dict(DATASOURCE), "editorMode": "code",
                "format": self.format, "rawQuery": True, "rawSql": self.sql.strip()}


@dataclass(frozen=True, slots=True)
class Panel:
    """A panel at a grid position (24 columns wide) with one query."""

    title: str
    type: Literal["table", "timeseries", "geomap", "stat", "barchart"]
    query: Query
    x: int
    y: int
    w: int
    h: int
    description: str = ""
    unit: str | None = None
    thresholds: tuple[tuple[float | None, str], ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    overrides: tuple[dict[str, Any], ...] = ()

    def to_json(self, panel_id: int) -> dict[str, Any]:
        """The panel as Grafana stores it."""
        defaults: dict[str, Any] = {}
        if self.unit:
            defaults["unit"] = self.unit
        if self.thresholds:
            defaults["color"] = {"mode": "thresholds"}
            defaults["thresholds"] = {"mode": "absolute", "steps": [
                {"color": color, "value": value} for value, color in self.thresholds]}
        return {"id": panel_id, "type": self.type, "title": self.title,
                "description": self.description, "datasource": dict(DATASOURCE),
                "gridPos": {"x": self.x, "y": self.y, "w": self.w, "h": self.h},
                "targets": [self.query.to_json()],
                "fieldConfig": {"defaults": defaults, "overrides": list(self.overrides)},
                "options": self.options}


@dataclass(frozen=True, slots=True)
class Variable:
    """A custom variable with fixed choices (or a hidden constant when there is one choice),
    or a free text box (`kind="textbox"`, the choices being its one default)."""

    name: str
    label: str
    choices: tuple[str, ...]
    default: str
    hide: bool = False
    kind: str = "custom"

    def to_json(self) -> dict[str, Any]:
        """The templating entry."""
        if self.kind == "textbox":
            return {"type": "textbox", "name": self.name, "label": self.label,
                    "query": self.default, "hide": 2 if self.hide else 0,
                    "current": {"text": self.default, "value": self.default},
                    "options": [{"text": self.default, "value": self.default,
                                 "selected": True}]}
        return {"type": "custom", "name": self.name, "label": self.label,
                "query": ",".join(self.choices), "hide": 2 if self.hide else 0,
                "multi": False, "includeAll": False,
                "current": {"text": self.default, "value": self.default, "selected": True},
                "options": [{"text": c, "value": c, "selected": c == self.default}
                            for c in self.choices]}


@dataclass(frozen=True, slots=True)
class Link:
    """A link in the dashboard's header."""

    title: str
    url: str
    tooltip: str = ""

    def to_json(self) -> dict[str, Any]:
        """The dashboard link."""
        return {"title": self.title, "type": "link", "url": self.url, "tooltip": self.tooltip,
                "targetBlank": True, "icon": "external link", "asDropdown": False,
                "includeVars": False, "keepTime": False, "tags": []}


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A whole dashboard."""

    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...] = ()
    links: tuple[Link, ...] = ()
    time_from: str = "now-7d"
    refresh: str = "5m"
    tags: tuple[str, ...] = ("bauhof",)

    def to_json(self) -> dict[str, Any]:
        """The dashboard model Grafana provisions and the HTTP API accepts."""
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": list(self.tags), "timezone": "browser", "editable": False,
            "graphTooltip": 1, "schemaVersion": SCHEMA_VERSION, "version": 1,
            "time": {"from": self.time_from, "to": "now"}, "refresh": self.refresh,
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": []},
            "links": [link.to_json() for link in self.links],
            "panels": [p.to_json(i) for i, p in enumerate(self.panels, start=1)],
        }


def markers(latitude: str, longitude: str, color_field: str, name: str,
            text_field: str | None = None) -> dict[str, Any]:
    """Geomap options: one marker layer at (latitude, longitude), coloured by a field."""
    style: dict[str, Any] = {"color": {"field": color_field, "fixed": "green"},
                             "size": {"fixed": 6}, "opacity": 0.9}
    if text_field:
        style["text"] = {"field": text_field, "mode": "field"}
        style["textConfig"] = {"fontSize": 10, "offsetY": -10, "textAlign": "center"}
    return {"view": {"id": "fit", "allLayers": True, "zoom": 14},
            "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
            "basemap": {"type": "default", "name": "Basemap"},
            "layers": [{"type": "markers", "name": name, "tooltip": True,
                        "location": {"mode": "coords", "latitude": latitude,
                                     "longitude": longitude},
                        "config": {"showLegend": True, "style": style}}],
            "tooltip": {"mode": "details"}}
