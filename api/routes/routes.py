"""Waste-collection routes: plan a day (with its collection-route orders), preview other
settings (with warnings), read a plan, a bin's fill curve and forecast, read, save and restore
the planner settings (see planning/ and docs/planning.md).

Planning runs the solver for the settings' time limit, so these endpoints are plain `def`
(FastAPI runs them in its thread pool); a preview uses the stored forecasts and the short
preview time limit and answers in well under two seconds for the default town.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from api.auth import Staff
from api.database import Conn, Connection
from api.problems import Problem, not_found
from api.responses import json_response
from api.users import Principal
from dashboards import waste
from planning import (
    MatrixError,
    NoVehicles,
    PlanningError,
    SettingsInvalid,
    plans,
    previews,
    workspace,
)
from planning import settings as planning_settings

router = APIRouter(prefix="/api/v1/routes", tags=["routes"])


class DayRequest(BaseModel):
    """A day to plan or preview, with changes to the planner settings in force."""

    model_config = ConfigDict(extra="forbid")

    day: date | None = Field(default=None, alias="date",
                             description="default: the next working day")
    settings: dict[str, Any] = Field(default_factory=dict,
                                     description="planner settings to change for this day's "
                                                 "plan or preview")


class PlanRequest(DayRequest):
    """Plan a day; optionally change settings first (saved as a new version when `save`)."""

    save: bool = Field(default=False, description="save the changed settings as a new version")
    note: str | None = None


def _problem(exc: PlanningError) -> Problem:
    if isinstance(exc, SettingsInvalid):
        errors = [{"field": p.split(":", 1)[0], "location": "body",
                   "message": p.split(":", 1)[-1].strip()} for p in exc.problems]
        return Problem(422, str(exc), slug="invalid-input", title="Invalid input",
                       errors=errors)
    if isinstance(exc, NoVehicles):
        return Problem(409, str(exc), slug="no-vehicles")
    if isinstance(exc, MatrixError):
        return Problem(502, str(exc), slug="routing-engine")
    return Problem(409, str(exc), slug="planning")


def _next_day(conn: Connection) -> date:
    from datetime import UTC, datetime

    from planning import bins, selection

    _, cfg = planning_settings.current(conn)
    return selection.next_plan_date(bins.latest_reading(conn) or datetime.now(UTC), cfg)


@router.post("/plans", status_code=201, operation_id="create_plan",
             summary="Plan a day: routes, stops and one collection-route order per route")
def create_plan(request: Request, conn: Conn, who: Staff,
                body: Annotated[PlanRequest, Body()]) -> Response:
    """Plan (or re-plan) a day; the previous plan of that day is superseded."""
    try:
        if body.save and body.settings:
            _, cfg = planning_settings.current(conn)
            merged = planning_settings.parse({**cfg.model_dump(mode="json"), **body.settings})
            planning_settings.save(conn, merged, who.actor, body.note)
            overrides: dict[str, Any] = {}
        else:
            overrides = body.settings
        day = body.day or _next_day(conn)
        plan = previews.create(conn, day, by=who.actor, overrides=overrides)
    except PlanningError as exc:
        raise _problem(exc) from exc
    doc = plan.summary()
    doc["warnings"] = [w.as_json() for w in workspace.plan_warnings(conn, plan)]
    return json_response(request, doc, status_code=201,
                         headers={"Location": f"/api/v1/routes/plans/{plan.id}"})


@router.get("/plans/{plan_id}", operation_id="get_plan",
            summary="A stored plan or preview with its routes and ordered stops")
def get_plan(request: Request, conn: Conn, who: Staff,
             plan_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    """One stored plan."""
    doc = plans.summary(conn, plan_id)
    if doc is None:
        raise not_found(f"plan {plan_id}")
    return json_response(request, doc)


_PREVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "No plan for this day: no vehicle available, or the bins cannot be "
                         "planned"},
    502: {"description": "The routing engine failed"}}


class PreviewRequest(DayRequest):
    """Preview a day with the settings in force plus some changes (nothing is saved)."""


def _preview(request: Request, conn: Connection, who: Principal, day: date | None,
             changes: dict[str, Any]) -> Response:
    try:
        doc = workspace.preview(conn, day, changes, by=who.actor)
    except PlanningError as exc:
        raise _problem(exc) from exc
    return json_response(request, doc)


@router.get("/preview", operation_id="preview",
            summary="Plan a day with another threshold and horizon, without orders",
            responses=_PREVIEW_ERRORS)
def preview(request: Request, conn: Conn, who: Staff, *,
            threshold: Annotated[float | None, Query(gt=0, le=100)] = None,
            horizon: Annotated[float | None, Query(ge=0, le=168)] = None,
            day: Annotated[date | None, Query(alias="date")] = None) -> Response:
    """The preview with its stops, bins left out and `warnings` (a list, empty when there is
    nothing to say); kept as one of the planner's latest drafts for the dashboard."""
    changes: dict[str, Any] = {}
    if threshold is not None:
        changes["fill_threshold_pct"] = threshold
    if horizon is not None:
        changes["horizon_h"] = horizon
    return _preview(request, conn, who, day, changes)


@router.post("/preview", operation_id="preview_with_settings",
             summary="Preview a day with any planner settings changed, without orders",
             responses=_PREVIEW_ERRORS)
def preview_with_settings(request: Request, conn: Conn, who: Staff,
                          body: Annotated[PreviewRequest, Body()]) -> Response:
    """As GET /preview, with every setting (vehicles, depot, working days, holidays, bins
    always or never collected) changeable."""
    return _preview(request, conn, who, body.day, body.settings)


@router.get("/bins/{bin_id}", operation_id="planning_bin",
            summary="A bin as the planner sees it: fill readings and forecast curve")
def planning_bin(request: Request, conn: Conn, who: Staff,
                 bin_id: Annotated[str, Path(min_length=1, max_length=200)]) -> Response:
    """The bin, its fill readings of the last 72 h and its hourly forecast for a week."""
    doc = workspace.bin_detail(conn, bin_id)
    if doc is None:
        raise not_found(f"bin {bin_id}")
    return json_response(request, doc)


@router.get("/settings/history", operation_id="settings_history",
            summary="The saved planner settings versions, newest first, with who and when")
def settings_history(request: Request, conn: Conn, who: Staff,
                     limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Response:
    """The latest versions of the planner settings."""
    return json_response(request, {"versions": planning_settings.history(conn, limit)})


@router.post("/settings/restore/{version}", operation_id="restore_settings",
             summary="Save an earlier settings version again as the newest")
def restore_settings(request: Request, conn: Conn, who: Staff,
                     version: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    """Restore a version: its settings become the next version (history is never rewritten)."""
    try:
        new = planning_settings.restore(conn, version, who.actor)
    except PlanningError as exc:
        raise _problem(exc) from exc
    if new is None:
        raise not_found(f"settings version {version}")
    _, cfg = planning_settings.current(conn)
    return json_response(request, {"version": new, "settings": cfg.model_dump(mode="json")})


@router.get("/settings", operation_id="get_settings", summary="The planner settings in force")
def get_settings(request: Request, conn: Conn, who: Staff) -> Response:
    """The settings in force and their version (null before any is saved), and where the
    Waste planning dashboard is (null without BAUHOF_GRAFANA_URL)."""
    version, cfg = planning_settings.current(conn)
    grafana = request.app.state.settings.grafana_url
    return json_response(request, {
        "version": version, "settings": cfg.model_dump(mode="json"),
        "grafana_url": f"{grafana}{waste.PATH}" if grafana else None,
        "grafana_bin_panel": waste.BIN_PANEL})


@router.put("/settings", operation_id="save_settings",
            summary="Save planner settings as a new version (missing fields keep their value)")
def save_settings(request: Request, conn: Conn, who: Staff,
                  body: Annotated[dict[str, Any], Body()],
                  note: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    """Validate and store the settings as the next version."""
    try:
        _, cfg = planning_settings.current(conn)
        merged = planning_settings.parse({**cfg.model_dump(mode="json"), **body})
        version = planning_settings.save(conn, merged, who.actor, note)
    except PlanningError as exc:
        raise _problem(exc) from exc
    return json_response(request, {"version": version,
                                   "settings": merged.model_dump(mode="json")})
