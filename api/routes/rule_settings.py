"""Rule settings per asset: read the parameters in force, change or reset one section.

Overrides are stored in `rule_overrides` in the vocabulary of the rules file's `overrides:`
section and validated with the rules engine's own parameter models (rules/ruleset.py), so a
value the engine would refuse is refused here, with the field named.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from api.auth import Staff
from api.database import Conn, Connection
from api.problems import Problem, not_found
from api.responses import json_response
from rules.ruleset import BinParams, HealthParams, Ruleset, VehicleParams, WateringParams

router = APIRouter(prefix="/api/v1/rule-settings", tags=["rule settings"])
Section = Literal["watering", "bins", "sensor_health", "vehicles"]
MODELS: dict[str, type[BaseModel]] = {"watering": WateringParams, "bins": BinParams,
                                      "sensor_health": HealthParams, "vehicles": VehicleParams}
SECTIONS_OF = {"green_area": ("watering", "sensor_health"), "bin": ("bins", "sensor_health"),
               "vehicle": ("vehicles", "sensor_health"), "device": ("sensor_health",)}
AssetId = Annotated[str, Path(min_length=1, max_length=200)]


class RuleSettings(BaseModel):
    """An asset's overrides and the parameters in force, by section."""

    asset_id: str
    asset_type: str
    overrides: dict[str, dict[str, Any]]
    effective: dict[str, dict[str, Any]]


def _asset(conn: Connection, asset_id: str) -> tuple[str, tuple[Any, ...]]:
    row = conn.execute(
        "SELECT 'green_area', plant_type, moisture_low_pct, moisture_clear_pct "
        "FROM green_areas WHERE id = %(id)s UNION ALL "
        "SELECT 'bin', NULL, fill_threshold_pct, NULL FROM bins WHERE id = %(id)s UNION ALL "
        "SELECT 'vehicle', NULL, NULL, NULL FROM vehicles WHERE id = %(id)s UNION ALL "
        "SELECT 'device', asset_id, NULL, NULL FROM devices WHERE dev_eui = %(id)s LIMIT 1",
        {"id": asset_id}).fetchone()
    if row is None:
        raise not_found(f"asset {asset_id!r} (a green area, bin, vehicle or device)")
    return str(row[0]), tuple(row[1:])


def _base(rs: Ruleset, asset_id: str, asset_type: str, section: str,
          extra: tuple[Any, ...]) -> BaseModel:
    if section == "watering":
        return rs.watering_for(asset_id, extra[0], extra[1], extra[2])
    if section == "bins":
        return rs.bins_for(asset_id, extra[1])
    if section == "vehicles":
        return rs.vehicles_for(asset_id)
    return rs.health_for(asset_id, extra[0] if asset_type == "device" else None)


def _overrides(conn: Connection, asset_id: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT section, params FROM rule_overrides WHERE asset_id = %s "
                        "ORDER BY section", (asset_id,)).fetchall()
    return {str(r[0]): dict(r[1]) for r in rows}


def document(conn: Connection, rs: Ruleset, asset_id: str) -> dict[str, Any]:
    """The overrides and effective parameters of an asset (as the engine merges them: the
    table's rows over the rules file's, a device's own over its asset's)."""
    asset_type, extra = _asset(conn, asset_id)
    overrides = _overrides(conn, asset_id)
    rows: list[tuple[str, str, Any]] = [(asset_id, s, p) for s, p in overrides.items()]
    if asset_type == "device" and extra[0]:
        rows = [(str(extra[0]), s, p) for s, p in _overrides(conn, str(extra[0])).items()] + rows
    in_force, _refused = rs.with_overrides(rows)
    effective = {section: _base(in_force, asset_id, asset_type, section, extra)
                 .model_dump(mode="json") for section in SECTIONS_OF[asset_type]}
    return {"asset_id": asset_id, "asset_type": asset_type, "overrides": overrides,
            "effective": effective}


@router.get("/{asset_id}", response_model=RuleSettings, summary="An asset's rule settings")
def get_settings(*, request: Request, conn: Conn, _who: Staff, asset_id: AssetId) -> Response:
    """Overrides set through the API and the parameters in force."""
    return json_response(request, document(conn, request.app.state.ruleset, asset_id))


@router.put("/{asset_id}/{section}", response_model=RuleSettings,
            summary="Set an asset's parameters for one section (replaces that section)")
def put_settings(*, request: Request, conn: Conn, who: Staff, asset_id: AssetId,
                 section: Section,
                 params: Annotated[dict[str, Any], Body(
                     examples=[{"fill_threshold_pct": 70}])]) -> Response:
    """Validate against the rules engine's models; 422 naming the parameter if refused."""
    asset_type, extra = _asset(conn, asset_id)
    if section not in SECTIONS_OF[asset_type]:
        raise Problem(422, f"path field 'section': {section} does not apply to a {asset_type}; "
                           f"use {' or '.join(SECTIONS_OF[asset_type])}",
                      slug="invalid-input", title="Invalid input",
                      errors=[{"field": "section", "location": "path",
                               "message": f"not a section of a {asset_type}"}])
    rs: Ruleset = request.app.state.ruleset
    base = _base(rs, asset_id, asset_type, section, extra).model_dump(mode="json")
    try:
        MODELS[section].model_validate({**base, **params})
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or section, "location": "body",
                   "message": str(e["msg"])} for e in exc.errors()]
        detail = "; ".join(f"body field '{e['field']}': {e['message']}" for e in errors)
        raise Problem(422, detail, slug="invalid-input", title="Invalid input",
                      errors=errors) from exc
    conn.execute(
        "INSERT INTO rule_overrides (asset_id, section, params, updated_by) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (asset_id, section) DO UPDATE SET "
        "params = EXCLUDED.params, updated_at = now(), updated_by = EXCLUDED.updated_by",
        (asset_id, section, Jsonb(params), who.actor))
    return json_response(request, document(conn, rs, asset_id))


@router.delete("/{asset_id}/{section}", response_model=RuleSettings,
               summary="Remove an asset's override of one section")
def delete_settings(*, request: Request, conn: Conn, _who: Staff, asset_id: AssetId,
                    section: Section) -> Response:
    """Back to the rules file's parameters for that section."""
    _asset(conn, asset_id)
    conn.execute("DELETE FROM rule_overrides WHERE asset_id = %s AND section = %s",
                 (asset_id, section))
    return json_response(request, document(conn, request.app.state.ruleset, asset_id))
