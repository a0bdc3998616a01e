"""Public endpoints of the report page: a report's steps, nearby open reports, "me too",
and the one-click opt-out of a report's mails. No sign-in; no personal data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from api import citizen_reports
from api.database import Conn
from api.problems import Problem, not_found
from api.ratelimit import limit_public
from api.responses import json_response

# Created by migration 0055 (only its hash is stored); revoking it closes the page's channel.
PAGE_KEY = "o311_melden"
router = APIRouter(prefix="/api/v1/public/reports", tags=["public"],
                   dependencies=[Depends(limit_public)])


@router.get("/form", summary="What the report page needs: categories, map centre, api_key")
def report_form(request: Request, conn: Conn) -> Response:
    """Open311 service codes with names in both languages, the centre of the town's assets
    and its named bins and green areas for the map (landmarks where no tiles are drawn), and
    the page's Open311 api_key (public by design: see docs/api.md)."""
    return json_response(request, {"services": citizen_reports.services(),
                                   "center": citizen_reports.center(conn),
                                   "landmarks": citizen_reports.landmarks(conn),
                                   "api_key": PAGE_KEY})


@router.get("/nearby", summary="Open reports near a place")
def nearby(*, request: Request, conn: Conn,
           lat: Annotated[float, Query(ge=-90, le=90)],
           long: Annotated[float, Query(ge=-180, le=180)],
           radius_m: Annotated[float, Query(gt=0, le=1000)] = 150.0) -> Response:
    """Open reports of the last 90 days within radius_m, nearest first (at most 20), so a
    citizen can add "me too" instead of reporting the same thing again."""
    return json_response(request, citizen_reports.nearby(conn, lat, long, radius_m))


@router.post("/unsubscribe", summary="Stop the mails of a report (one click, RFC 8058)")
def unsubscribe(*, conn: Conn,
                m: Annotated[str, Query(min_length=8, max_length=100)]) -> dict[str, Any]:
    """The `m` token comes from the opt-out link in every mail of the report."""
    if not citizen_reports.unsubscribe(conn, m):
        raise not_found("the opt-out link")
    return {"unsubscribed": True}


@router.post("/{request_id}/me-too", summary="Me too: the same problem, reported again")
def me_too(*, conn: Conn,
           request_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    """Count one more citizen for an open report; 409 when it is closed."""
    count = citizen_reports.me_too(conn, request_id)
    if count is None:
        if citizen_reports.status(conn, str(request_id)) is None:
            raise not_found(f"report {request_id}")
        raise Problem(409, f"report {request_id} is closed", slug="closed")
    return {"service_request_id": request_id, "me_too": count}


@router.get("/{key}", summary="A report's steps in words (by its token or its number)")
def report_status(*, request: Request, conn: Conn,
                  key: Annotated[str, Path(min_length=1, max_length=100)]) -> Response:
    """Received, merged, taken on, in progress, done or closed without action, with what
    the crew wrote for the public; never a personal detail or an internal note."""
    found = citizen_reports.status(conn, key)
    if found is None:
        raise not_found(f"report {key!r}")
    return json_response(request, found)
