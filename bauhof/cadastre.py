"""The green-area cadastre: areas created, changed, retired and imported, with their history.

Every change writes a `green_area_history` row naming who made it and what changed. The
GeoJSON import (`bauhof assets import FILE.geojson`) takes a cadastre export: one feature
per area, a Polygon or a Point, the area's fields as properties; it is idempotent by id, and
a file with any error is refused whole with every error named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from bauhof.assets import GreenArea, geojson_features

# Fields a change may set (sponsor and position of a probe are not the cadastre's).
FIELDS = ("name", "plant_type", "latitude", "longitude", "radius_m", "polygon", "area_m2",
          "planting_year", "trees", "notes", "photo_url", "allow_several", "needs_planting",
          "moisture_low_pct", "moisture_clear_pct")
_SELECT = f"SELECT id, {', '.join(FIELDS)}, retired_at FROM green_areas"  # noqa: S608


class CadastreError(ValueError):
    """A refused change; `problems` names every reason, `status` the HTTP status for it."""

    def __init__(self, problems: list[str], status: int = 422) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.status = status


def _stored(conn: psycopg.Connection[Any], area_id: str, *, lock: bool = False) -> (
    dict[str, Any] | None
):
    row = conn.execute(_SELECT + " WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                       (area_id,)).fetchone()
    if row is None:
        return None
    values = dict(zip(("id", *FIELDS), row[:-1], strict=True))
    values["retired_at"] = row[-1]
    return values


def _plain(area: GreenArea) -> dict[str, Any]:
    dumped = area.model_dump(mode="json")
    return {k: dumped[k] for k in FIELDS}


def _comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Stored values in the shape of a validated area's (polygon pairs as lists)."""
    out = {k: values.get(k) for k in FIELDS}
    if out["polygon"] is not None:
        out["polygon"] = [list(p) for p in out["polygon"]]
    return out


def validate(values: dict[str, Any]) -> GreenArea:
    """A GreenArea from plain values; CadastreError naming every bad field."""
    try:
        return GreenArea.model_validate(values)
    except ValidationError as exc:
        raise CadastreError([f"{'.'.join(str(p) for p in e['loc']) or 'area'}: {e['msg']}"
                             for e in exc.errors()]) from exc


def _write(conn: psycopg.Connection[Any], area: GreenArea, insert: bool) -> None:
    v = _plain(area)
    params = (*[Jsonb(v[k]) if k in ("polygon", "trees") and v[k] is not None else v[k]
                for k in FIELDS], area.id)
    if insert:
        conn.execute(f"INSERT INTO green_areas ({', '.join(FIELDS)}, id) VALUES "  # noqa: S608
                     f"({', '.join(['%s'] * (len(FIELDS) + 1))})", params)
    else:
        sets = ", ".join(f"{k} = %s" for k in FIELDS)
        conn.execute(f"UPDATE green_areas SET {sets}, retired_at = NULL, "  # noqa: S608
                     "updated_at = now() WHERE id = %s", params)


def _history(conn: psycopg.Connection[Any], area_id: str, actor: str, event: str,
             changes: dict[str, Any]) -> None:
    conn.execute("INSERT INTO green_area_history (area_id, actor, event, changes) "
                 "VALUES (%s, %s, %s, %s)", (area_id, actor, event, Jsonb(changes)))


def create(conn: psycopg.Connection[Any], values: dict[str, Any], actor: str) -> GreenArea:
    """A new area; CadastreError (409) when the id is taken."""
    area = validate(values)
    with conn.transaction():
        if _stored(conn, area.id, lock=True) is not None:
            raise CadastreError([f"id: green area {area.id!r} already exists"], 409)
        _write(conn, area, insert=True)
        _history(conn, area.id, actor, "created", _plain(area))
    return area


def change(conn: psycopg.Connection[Any], area_id: str, patch: dict[str, Any], actor: str) -> (
    dict[str, Any]
):
    """Change some fields; returns what changed as {field: [old, new]}."""
    with conn.transaction():
        stored = _stored(conn, area_id, lock=True)
        if stored is None or stored["retired_at"] is not None:
            raise CadastreError([f"green area {area_id!r} not found"], 404)
        unknown = sorted(set(patch) - set(FIELDS))
        if unknown:
            raise CadastreError([f"{k}: cannot be changed here" for k in unknown])
        before = _comparable(stored)
        merged = {k: v for k, v in {**before, **patch}.items() if v is not None}
        area = validate({"id": area_id, **merged})
        after = _plain(area)
        diff = {k: [before[k], after[k]] for k in FIELDS if before[k] != after[k]}
        if diff:
            _write(conn, area, insert=False)
            _history(conn, area_id, actor, "changed", diff)
        return diff


def retire(conn: psycopg.Connection[Any], area_id: str, actor: str) -> None:
    """Take an area off the map; refused while someone sponsors it."""
    with conn.transaction():
        stored = _stored(conn, area_id, lock=True)
        if stored is None or stored["retired_at"] is not None:
            raise CadastreError([f"green area {area_id!r} not found"], 404)
        busy = conn.execute(
            "SELECT count(*) FROM sponsorships WHERE area_id = %s AND status IN "
            "('requested', 'active')", (area_id,)).fetchone()
        sponsored = conn.execute("SELECT sponsor_id FROM green_areas WHERE id = %s",
                                 (area_id,)).fetchone()
        if (busy and busy[0]) or (sponsored and sponsored[0]):
            raise CadastreError([f"green area {area_id!r} has a sponsor or an open request: "
                                 "end or decline it first"], 409)
        conn.execute("UPDATE green_areas SET retired_at = now(), updated_at = now() "
                     "WHERE id = %s", (area_id,))
        _history(conn, area_id, actor, "retired", {})


def history(conn: psycopg.Connection[Any], area_id: str) -> list[dict[str, Any]]:
    """An area's changes, oldest first."""
    rows = conn.execute("SELECT at, actor, event, changes FROM green_area_history "
                        "WHERE area_id = %s ORDER BY id", (area_id,)).fetchall()
    return [{"at": r[0], "actor": r[1], "event": r[2], "changes": r[3]} for r in rows]


def parse_geojson(path: Path) -> list[GreenArea]:
    """The areas of a cadastre export; CadastreError naming every problem in the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CadastreError([f"{path}: cannot read: {exc.strerror}"]) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CadastreError([f"{path}: not valid JSON: {exc}"]) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise CadastreError([f"{path}: GeoJSON must be a FeatureCollection"])
    problems: list[str] = []
    areas: list[GreenArea] = []
    seen: set[str] = set()
    for index, feature, props in geojson_features(data, problems):
        where = f"feature {index}"
        ident = props.get("id", feature.get("id"))
        if ident is not None:
            props["id"] = ident
            where = f"feature {index} ({ident})"
        props.pop("type", None)
        geometry = feature.get("geometry") or {}
        try:
            if geometry.get("type") == "Polygon":
                ring = geometry["coordinates"][0]
                props["polygon"] = ring
                props.setdefault("longitude", sum(p[0] for p in ring[:-1]) / (len(ring) - 1))
                props.setdefault("latitude", sum(p[1] for p in ring[:-1]) / (len(ring) - 1))
            elif geometry.get("type") == "Point":
                props["longitude"], props["latitude"] = geometry["coordinates"][:2]
            else:
                problems.append(f"{where}: geometry must be a Polygon or a Point")
                continue
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
            problems.append(f"{where}: geometry coordinates are malformed")
            continue
        try:
            area = GreenArea.model_validate(props)
        except ValidationError as exc:
            problems.extend(f"{where}: {'.'.join(str(p) for p in e['loc']) or 'feature'}: "
                            f"{e['msg']}" for e in exc.errors())
            continue
        if area.sponsor is not None:
            problems.append(f"{where}: sponsor: sponsors are not set by a cadastre import")
        if area.id in seen:
            problems.append(f"{where}: id {area.id!r} appears twice")
        seen.add(area.id)
        areas.append(area)
    if not areas and not problems:
        problems.append(f"{path}: no features")
    if problems:
        raise CadastreError(problems)
    return areas


def import_areas(conn: psycopg.Connection[Any], areas: list[GreenArea], actor: str) -> (
    dict[str, int]
):
    """Upsert the areas in one transaction; count new, changed and unchanged ones."""
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    with conn.transaction():
        for area in areas:
            stored = _stored(conn, area.id, lock=True)
            after = _plain(area)
            if stored is None:
                _write(conn, area, insert=True)
                _history(conn, area.id, actor, "imported", after)
                counts["new"] += 1
                continue
            before = _comparable(stored)
            diff = {k: [before[k], after[k]] for k in FIELDS if before[k] != after[k]}
            if diff or stored["retired_at"] is not None:
                _write(conn, area, insert=False)
                _history(conn, area.id, actor, "imported", diff)
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
    return counts
