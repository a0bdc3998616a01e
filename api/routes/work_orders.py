"""Work orders: list and filter, one order with its story, transitions, photos.

Every transition goes through rules/orders.py, which enforces the life cycle, writes the
history and publishes the change; an illegal one is answered 409 with the allowed steps.
The server's clock stamps transitions; an API started with BAUHOF_API_CLIENT_TIME=1 takes a
client's `at` instead (simulations and replays on a virtual clock), otherwise `at` is 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass
from starlette.responses import Response

from api import orders_view, pagination, photos
from api.auth import Anyone, Staff
from api.database import Conn, Connection
from api.problems import Problem, invalid, not_found
from api.responses import json_response
from api.users import Principal
from bauhof.assignee import Assignee, AssigneeError, crew_name
from rules import orders
from rules.errors import IllegalTransition

router = APIRouter(prefix="/api/v1/work-orders", tags=["work orders"])
OrderId = Annotated[int, Path(ge=1, le=2**62)]
AT_DESCRIPTION = ("when it happened; only accepted by an API running with "
                  "BAUHOF_API_CLIENT_TIME=1 (simulations, replays), otherwise 422")


@pydantic_dataclass(frozen=True)
class OrderSummary(orders.OrderHead):
    """A work order in a list."""

    distance_m: float | None


class OrderPage(BaseModel):
    """One page of work orders."""

    items: list[OrderSummary]
    next_cursor: str | None


@pydantic_dataclass(frozen=True)
class HistoryEntry(orders.HistoryEntry):
    """One recorded change."""


class Defect(BaseModel):
    """A defect attached to the order (reporter_email: administrators only)."""

    id: int
    kind: str
    source: str
    status: str
    description: str | None
    opened_at: datetime
    resolved_at: datetime | None
    reporter_email: str | None
    service_code: str | None


class Photo(BaseModel):
    """A photo taken when the order was done."""

    id: int
    url: str
    content_type: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime


@pydantic_dataclass(frozen=True)
class OrderDetail(orders.Order):
    """One order with why it exists and what happened to it."""

    distance_m: float | None
    history: list[HistoryEntry]
    defects: list[Defect]
    photos: list[Photo]


PUBLIC_NOTE = ("what the citizens who reported this read (status page, mail); `note` stays "
               "internal")


class AssignBody(BaseModel):
    """Whom to assign: a crew's user name (a crew may only name itself, or leave it out)."""

    model_config = ConfigDict(extra="forbid")

    crew: str | None = Field(default=None, min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    public_note: str | None = Field(default=None, max_length=1000, description=PUBLIC_NOTE)
    at: AwareDatetime | None = Field(default=None, description=AT_DESCRIPTION)


class NoteBody(BaseModel):
    """An optional note."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)
    public_note: str | None = Field(default=None, max_length=1000, description=PUBLIC_NOTE)
    at: AwareDatetime | None = Field(default=None, description=AT_DESCRIPTION)


class CancelBody(BaseModel):
    """Why the order is cancelled."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)
    # The keys of rules.citizen.REASONS (a test keeps both lists equal).
    public_reason: Literal["duplicate", "not_responsible", "not_found", "already_fixed",
                           "planned"] | None = Field(
        default=None, description="a standard reason the citizens who reported it read")
    public_note: str | None = Field(default=None, max_length=1000, description=PUBLIC_NOTE)
    at: AwareDatetime | None = Field(default=None, description=AT_DESCRIPTION)


@router.get("", response_model=OrderPage, summary="List and filter work orders")
def list_work_orders(
    *,
    request: Request, conn: Conn, who: Anyone,
    status: Annotated[str | None, Query(
        max_length=200, description="comma-separated statuses; `active` = open, assigned, "
                                    "in_progress")] = None,
    kind: Annotated[str | None, Query(max_length=300, description="comma-separated")] = None,
    assignee: Annotated[str | None, Query(max_length=100, description="e.g. crew:nord")] = None,
    subject_type: Annotated[Literal["green_area", "bin", "device", "vehicle"] | None,
                            Query()] = None,
    subject_id: Annotated[str | None, Query(max_length=200)] = None,
    bbox: Annotated[str | None, Query(
        max_length=200, description="min_lon,min_lat,max_lon,max_lat")] = None,
    due_before: Annotated[AwareDatetime | None, Query()] = None,
    near: Annotated[str | None, Query(
        max_length=100, description="lat,lon: adds distance_m to each order")] = None,
    sort: Annotated[Literal["priority", "newest"], Query()] = "priority",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=pagination.MAX_LIMIT)] = pagination.DEFAULT_LIMIT,
) -> Response:
    """Orders visible to the caller, most urgent first (or newest first)."""
    if assignee is not None:
        try:
            assignee = str(Assignee.parse(assignee))
        except AssigneeError as exc:
            raise invalid("assignee", str(exc), "query") from exc
    box = orders_view.parse_numbers(bbox, 4, "bbox")
    point = orders_view.parse_numbers(near, 2, "near")
    if box is not None and (box[0] > box[2] or box[1] > box[3]):
        raise invalid("bbox", "min_lon must not exceed max_lon, nor min_lat max_lat", "query")
    f = orders_view.OrderFilter(
        statuses=orders_view.split_list(status, orders_view.STATUSES, "status"),
        kinds=orders_view.split_list(kind, orders_view.KINDS, "kind"),
        assignee=assignee, subject_type=subject_type, subject_id=subject_id,
        bbox=None if box is None else (box[0], box[1], box[2], box[3]), due_before=due_before,
        near=None if point is None else (point[0], point[1]))
    return json_response(request, orders_view.list_orders(conn, who, f, sort=sort, cursor=cursor,
                                                                 limit=limit))


@router.get("/{order_id}", response_model=OrderDetail,
            summary="One order with evidence, history, defects and photos")
def get_work_order(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId) -> Response:
    """The order as the caller may see it."""
    return json_response(request, orders_view.load(conn, who, order_id))


def _crew_of(conn: Connection, name: str) -> Assignee:
    row = conn.execute("SELECT role FROM api_users WHERE name = %s AND disabled_at IS NULL",
                       (name,)).fetchone()
    if row is None or row[0] != "crew":
        raise invalid("crew", f"{name!r} is not an active crew (see `bauhof users list`)")
    return Assignee.crew(name)


def event_time(request: Request, at: datetime | None, location: str = "body") -> (
    datetime | None
):
    """The client's `at` when the API accepts client times; 422 when it does not."""
    if at is not None and not request.app.state.settings.client_time:
        raise invalid("at", "this API stamps transitions with its own clock; a client's time "
                            "is accepted only with BAUHOF_API_CLIENT_TIME=1 (simulations and "
                            "replays)", location)
    return at


def _move(request: Request, conn: Connection, who: Principal, order_id: int, *, to: str,
          note: str | None, assignee: Assignee | None = None, at: datetime | None = None,
          public_note: str | None = None, public_reason: str | None = None,
          crews_own: bool = False) -> Response:
    """Run one transition (the order must be visible to the caller; with `crews_own`, a step
    of the crew's own work); 409 if illegal. The order is read once, locked."""
    with conn.transaction():
        order = orders_view.get(conn, who, order_id, lock=True)
        if crews_own:
            _crews_own_step(who, order)
        after = step(conn, who, order, to, note, assignee=assignee, at=at,
                     public_note=public_note or None, public_reason=public_reason)
        return json_response(request, orders_view.detail(conn, who, after))


def step(conn: Connection, who: Principal, order: orders.Order, to: str, note: str | None,
         **how: Any) -> orders.Order:
    """`orders.move` as `who` (the order locked in the caller's transaction); 409 if illegal."""
    try:
        return orders.move(conn, order, to, who.actor, note, **how)
    except IllegalTransition as exc:
        raise conflict(exc) from exc


def conflict(exc: IllegalTransition) -> Problem:
    """409 naming the order's status and the steps it allows."""
    return Problem(409, str(exc), slug="illegal-transition", title="Illegal transition",
                   order_id=exc.order_id, from_status=exc.from_status,
                   to_status=exc.to_status, allowed=list(exc.allowed))


@router.post("/{order_id}/assign", response_model=OrderDetail, summary="Assign to a crew")
def assign(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId,
           body: AssignBody) -> Response:
    """Planners assign any crew (reassigning goes back to open first); a crew takes one."""
    at = event_time(request, body.at)
    if who.crew is not None:
        if body.crew not in (None, who.name):
            raise Problem(403, "a crew may only assign orders to itself", slug="forbidden")
        return _move(request, conn, who, order_id, to="assigned", note=body.note,
                     assignee=who.assignee, at=at, public_note=body.public_note)
    if body.crew is None:
        raise invalid("crew", "name the crew to assign")
    target = _crew_of(conn, body.crew)
    with conn.transaction():
        order = orders_view.get(conn, who, order_id, lock=True)
        if order.status == "assigned" and order.assigned_to != target:
            order = step(conn, who, order, "open", "reassigned", at=at)
        after = step(conn, who, order, "assigned", body.note, assignee=target, at=at,
                     public_note=body.public_note or None)
        return json_response(request, orders_view.detail(conn, who, after))


def _crews_own_step(who: Principal, order: orders.Order) -> None:
    """403 for a planner starting or finishing a crew's order (docs/security.md role table:
    planners assign and cancel; the work itself is the crew's)."""
    if who.role != "planner":
        return
    assignee = order.assignee
    if crew_name(assignee) is not None:
        raise Problem(403, f"planners assign and cancel orders; starting and finishing order "
                           f"{order.id} is for {assignee} (or an administrator)",
                      slug="forbidden")


@router.post("/{order_id}/start", response_model=OrderDetail, summary="Start work")
def start(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId,
          body: NoteBody | None = None) -> Response:
    """Mark the order in progress (a crew starting an untaken order takes it)."""
    at = event_time(request, body.at if body else None)
    return _move(request, conn, who, order_id, to="in_progress",
                 note=body.note if body else None, assignee=who.assignee, at=at,
                 public_note=body.public_note if body else None, crews_own=True)


@router.post("/{order_id}/done", response_model=OrderDetail,
             summary="Finish, with a note and an optional photo (multipart form)")
def done(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId,
         note: Annotated[str | None, Form(max_length=2000)] = None,
         public_note: Annotated[str | None, Form(max_length=1000,
                                                 description=PUBLIC_NOTE)] = None,
         photo: Annotated[UploadFile | None, File(description="JPEG, PNG or WebP")] = None,
         at: Annotated[AwareDatetime | None, Form(description=AT_DESCRIPTION)] = None,
         ) -> Response:
    """Close the order as done; a photo is stored and listed with the order."""
    when = event_time(request, at, "form")
    settings = request.app.state.settings
    stored = None
    try:
        with conn.transaction():
            order = orders_view.get(conn, who, order_id, lock=True)
            _crews_own_step(who, order)
            if photo is not None and photo.filename:
                stored = photos.store(settings.media_dir, order_id, photo.file,
                                      settings.max_photo_bytes)
            after = step(conn, who, order, "done", note, assignee=who.assignee, at=when,
                         public_note=public_note or None)
            if stored is not None:
                conn.execute(
                    "INSERT INTO order_photos (order_id, file_name, content_type, size_bytes, "
                    "sha256, uploaded_by) VALUES (%s, %s, %s, %s, %s, %s)",
                    (order_id, stored.file_name, stored.content_type, stored.size_bytes,
                     stored.sha256, who.actor))
            return json_response(request, orders_view.detail(conn, who, after))
    except BaseException:
        if stored is not None:
            stored.path.unlink(missing_ok=True)
        raise


@router.post("/{order_id}/cancel", response_model=OrderDetail,
             summary="Cancel with a reason (planners and administrators)")
def cancel(*, request: Request, conn: Conn, who: Staff, order_id: OrderId,
           body: CancelBody) -> Response:
    """Cancel the order; the reason is kept in its history."""
    return _move(request, conn, who, order_id, to="cancelled", note=body.reason,
                 at=event_time(request, body.at), public_note=body.public_note,
                 public_reason=body.public_reason)


@router.get("/{order_id}/photos/{photo_id}", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}},
                             "description": "the photo"}},
            summary="A photo of a finished order")
def get_photo(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId,
              photo_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
    """The stored image."""
    orders_view.get(conn, who, order_id)
    row = conn.execute("SELECT file_name, content_type FROM order_photos WHERE id = %s "
                       "AND order_id = %s", (photo_id, order_id)).fetchone()
    if row is None:
        raise not_found(f"photo {photo_id} of work order {order_id}")
    path = photos.path_of(request.app.state.settings.media_dir, str(row[0]))
    if not path.is_file():
        raise not_found(f"the file of photo {photo_id}")
    return FileResponse(path, media_type=str(row[1]),
                        headers={"Cache-Control": "private, max-age=86400"})
