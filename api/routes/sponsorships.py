"""Staff side of the portal: sponsorships (list, approve, decline, end, overview, a person's
data), the green-area cadastre (create, change, retire, history) and area inspections.

Planners and administrators manage sponsorships; names, addresses, phone numbers and
messages are shown to administrators only (DSGVO), planners see the public display name.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.dataclasses import dataclass as pydantic_dataclass
from starlette.responses import Response

from api import pagination, portal_view
from api import sponsorship_store as store
from api.auth import Admin, Anyone, Staff
from api.database import Conn
from api.problems import Problem, invalid, not_found
from api.responses import json_response
from api.routes.portal import EMAIL, link_maker, refused
from api.users import Principal
from bauhof import cadastre

router = APIRouter(prefix="/api/v1", tags=["sponsorships"])
Status = store.Status
PERSONAL = ("name", "email", "phone", "message")


@pydantic_dataclass(frozen=True)
class Sponsorship(store.Row):
    """A sponsorship; personal fields are null for everyone but administrators."""


class SponsorshipPage(BaseModel):
    """One page of sponsorships."""

    items: list[Sponsorship]
    next_cursor: str | None


class Reason(BaseModel):
    """Why staff decline a request (the citizen is told)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                             max_length=1000)]


class OverviewRow(BaseModel):
    """A sponsored area in the overview."""

    area_id: str
    area_name: str
    sponsor_id: str
    sponsor_name: str | None
    sponsor_email: str | None
    since: str | None
    watered_by_sponsor: int
    watered_by_bauhof: int
    sponsorship_id: int | None


class Season(BaseModel):
    """Open the inspection orders of a season (default: the current month's)."""

    model_config = ConfigDict(extra="forbid")

    season: Literal["spring", "autumn"] | None = None


class Inspection(BaseModel):
    """The result of an area inspection (Flächenkontrolle)."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["ok", "needs_care", "damaged"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


def _shown(row: store.Row, who: Principal) -> dict[str, Any]:
    data = asdict(row)
    if who.role != "admin":
        data.update(dict.fromkeys(PERSONAL))
    return data


def _key(item: dict[str, Any]) -> list[Any]:
    return [item["id"]]


@router.get("/sponsorships", response_model=SponsorshipPage, summary="List sponsorships")
def list_sponsorships(*, request: Request, conn: Conn, who: Staff,
                      status: Annotated[Status | None, Query()] = None,
                      area_id: Annotated[str | None, Query(max_length=64)] = None,
                      cursor: Annotated[str | None, Query(max_length=500)] = None,
                      limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = (
                          pagination.DEFAULT_LIMIT)) -> Response:
    """Inquiries and sponsorships by id, filtered by status and area."""
    after = int(pagination.decode(cursor, "id", (int,))[0]) if cursor else 0
    store.expire(conn, datetime.now(UTC))
    rows = store.listing(conn, status, area_id, after, limit + 1)
    items = [_shown(r, who) for r in rows]
    return json_response(request, pagination.page(items, limit, "id", _key))


@router.get("/sponsorships/overview", response_model=list[OverviewRow],
            summary="Which areas are sponsored, by whom, since when, watered by whom")
def sponsor_overview(*, request: Request, conn: Conn, who: Staff) -> Response:
    """The sponsor overview; names and addresses for administrators only."""
    return json_response(request, portal_view.overview(conn, who.role == "admin"))


@router.get("/sponsorships/export", summary="Everything stored about one person (DSGVO)")
def export_person(*, request: Request, conn: Conn, _who: Admin,
                  email: Annotated[str, Query(max_length=254, pattern=EMAIL)]) -> Response:
    """A person's sponsorships, sponsor records, link actions and mails, by e-mail address."""
    return json_response(request, store.export(conn, email))


@router.get("/sponsorships/{sid}", response_model=Sponsorship, summary="One sponsorship")
def get_sponsorship(*, request: Request, conn: Conn, who: Staff, sid: int) -> Response:
    """One sponsorship."""
    try:
        return json_response(request, _shown(store.get(conn, sid), who))
    except store.SponsorshipError as exc:
        raise refused(exc) from exc


@router.post("/sponsorships/{sid}/approve", response_model=Sponsorship,
             summary="Award the area to the citizen")
def approve(*, request: Request, conn: Conn, who: Staff, sid: int) -> Response:
    """Approve a confirmed request; opens a planting order where the area needs one."""
    now = datetime.now(UTC)
    try:
        row = store.approve(conn, sid, who.actor, now, link_maker(request.app.state.settings,
                                                                   now))
    except store.SponsorshipError as exc:
        raise refused(exc) from exc
    return json_response(request, _shown(row, who))


@router.post("/sponsorships/{sid}/decline", response_model=Sponsorship,
             summary="Decline a request, with the reason")
def decline(*, request: Request, conn: Conn, who: Staff, sid: int, body: Reason) -> Response:
    """Decline; the citizen is mailed the reason."""
    try:
        row = store.decline(conn, sid, who.actor, body.reason, datetime.now(UTC))
    except store.SponsorshipError as exc:
        raise refused(exc) from exc
    return json_response(request, _shown(row, who))


@router.post("/sponsorships/{sid}/end", response_model=Sponsorship,
             summary="End a sponsorship; the area is free again")
def end(*, request: Request, conn: Conn, who: Staff, sid: int) -> Response:
    """End an active sponsorship."""
    try:
        row = store.end(conn, sid, who.actor, datetime.now(UTC))
    except store.SponsorshipError as exc:
        raise refused(exc) from exc
    return json_response(request, _shown(row, who))


# The cadastre ------------------------------------------------------------------------------

def _cadastre_problem(exc: cadastre.CadastreError) -> Problem:
    if exc.status == 404:
        return not_found(str(exc).removesuffix(" not found"))
    if exc.status == 409:
        return Problem(409, str(exc), slug="conflict")
    errors = [{"field": p.partition(":")[0], "location": "body",
               "message": p.partition(":")[2].strip()} for p in exc.problems]
    return Problem(422, "; ".join(f"body field '{e['field']}': {e['message']}" for e in errors),
                   slug="invalid-input", title="Invalid input", errors=errors)


@router.post("/green-areas", status_code=201, summary="Add a green area to the cadastre")
def create_area(*, request: Request, conn: Conn, who: Admin, body: dict[str, Any]) -> Response:
    """A new area (GreenArea fields: id, name, plant_type, latitude, longitude, polygon,
    area_m2, planting_year, trees, notes, photo_url, allow_several, needs_planting)."""
    if "sponsor" in body:
        raise invalid("sponsor", "sponsors come from the portal's sponsorships")
    try:
        area = cadastre.create(conn, body, who.actor)
    except cadastre.CadastreError as exc:
        raise _cadastre_problem(exc) from exc
    return json_response(request, area.model_dump(mode="json"), status_code=201)


@router.patch("/green-areas/{area_id}", summary="Change a green area")
def change_area(*, request: Request, conn: Conn, who: Admin, area_id: str,
                body: dict[str, Any]) -> Response:
    """Change some fields; answers what changed as {field: [old, new]}."""
    try:
        diff = cadastre.change(conn, area_id, body, who.actor)
    except cadastre.CadastreError as exc:
        raise _cadastre_problem(exc) from exc
    return json_response(request, {"id": area_id, "changed": diff})


@router.delete("/green-areas/{area_id}", status_code=204, summary="Retire a green area")
def retire_area(*, conn: Conn, who: Admin, area_id: str) -> Response:
    """Take the area off the map (its history stays)."""
    try:
        cadastre.retire(conn, area_id, who.actor)
    except cadastre.CadastreError as exc:
        raise _cadastre_problem(exc) from exc
    return Response(status_code=204)


@router.get("/green-areas/{area_id}/history", summary="A green area's changes")
def area_history(*, request: Request, conn: Conn, _who: Staff, area_id: str) -> Response:
    """Every change of the area, oldest first."""
    rows = cadastre.history(conn, area_id)
    if not rows:
        raise not_found(f"green area {area_id!r}")
    return json_response(request, rows)


@router.post("/green-areas/inspections", summary="Open this season's inspection orders")
def open_inspections(*, request: Request, conn: Conn, who: Staff,
                     body: Season | None = None) -> Response:
    """One inspection order per area and season (spring, autumn); answers the new ids."""
    opened = store.open_inspections(conn, datetime.now(UTC), who.actor,
                                    body.season if body else None)
    return json_response(request, {"opened": opened})


@router.post("/green-areas/{area_id}/inspection", summary="Record an inspection's result")
def record_inspection(*, request: Request, conn: Conn, who: Anyone, area_id: str,
                      body: Inspection) -> Response:
    """The result on the area, its inspection order done, the sponsors told."""
    try:
        found = store.record_inspection(conn, area_id, body.result, note=body.note,
                                        actor=who.actor, now=datetime.now(UTC))
    except store.SponsorshipError as exc:
        raise refused(exc) from exc
    return json_response(request, found)
