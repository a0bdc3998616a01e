"""What the crew app needs beyond the order API: who is signed in, the cards, route stops.

`GET /api/v1/crew/orders` answers crews and administrators only (a planner's token is 403:
the crew app is not the planner's tool); with `ids` it returns just those cards, so a burst
of live changes costs one request. A stop of a collection route is finished with one call;
the route's order is done when its last stop is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass
from starlette.responses import Response

from api import crew_view, orders_view
from api.auth import Anyone, require
from api.database import Conn
from api.problems import Problem, invalid, not_found
from api.responses import json_response
from api.routes.work_orders import (
    NoteBody,
    OrderDetail,
    OrderId,
    OrderSummary,
    conflict,
    event_time,
)
from api.users import Principal
from rules import orders
from rules.errors import IllegalTransition

router = APIRouter(tags=["crew app"])
CrewOrAdmin = Annotated[Principal, Depends(require("crew", "admin"))]
MAX_IDS = 200


class Me(BaseModel):
    """The signed-in user."""

    name: str
    role: str
    actor: str
    crew: str | None
    expires_at: datetime | None


class Stop(BaseModel):
    """One stop of a collection route (fill: latest reading; planned: when planned)."""

    seq: int
    bin_id: str
    name: str
    latitude: float
    longitude: float
    eta: datetime
    planned_fill_pct: float | None
    expected_fill_pct: float
    done_at: datetime | None
    fill_pct: float | None


class Route(BaseModel):
    """A collection route's stops in order."""

    plan_id: int | None
    route_no: int | None
    distance_m: float | None
    stops: list[Stop]


class Water(BaseModel):
    """How much water a watering order asks for (from the area's water balance)."""

    litres: int | None = None
    litres_per_m2: float | None = None
    litres_per_tree: int | None = None
    trees: int | None = None


@pydantic_dataclass(frozen=True)
class Card(OrderSummary):
    """An order with everything its card shows: the list's fields and the card's own."""

    place: str | None
    address: str | None
    report: str | None
    citizen_reports: Annotated[int, Field(description=(
        "open citizens' reports on the order: they are told when it is done, with the "
        "public_note given then"))]
    condition_since: datetime | None
    last_seen_at: datetime | None
    series: list[tuple[datetime, float]]
    threshold: float | None
    forecast_full_at: datetime | None
    reason: str | None
    age_steps: int
    base_priority: int
    water: Water | None
    route: Route | None


class Cards(BaseModel):
    """The crew's active orders as cards."""

    items: list[Card]


@router.get("/api/v1/me", response_model=Me, summary="Who is signed in")
def me(*, who: Anyone) -> dict[str, Any]:
    """The token's user, role and (for a crew) the assignee value of its orders."""
    return {"name": who.name, "role": who.role, "actor": who.actor, "crew": who.crew,
            "expires_at": who.expires_at}


def _ids(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        ids = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        ids = []
    if not ids or len(ids) > MAX_IDS or not all(1 <= i <= 2**62 for i in ids):
        raise invalid("ids", f"expected 1 to {MAX_IDS} comma-separated order ids", "query")
    return ids


@router.get("/api/v1/crew/orders", response_model=Cards,
            summary="The crew's active orders as cards (crews and administrators)")
def crew_orders(
    *, request: Request, conn: Conn, who: CrewOrAdmin,
    ids: Annotated[str | None, Query(max_length=4000,
                                     description="only these orders (comma-separated)")] = None,
    near: Annotated[str | None, Query(
        max_length=100, description="lat,lon: adds distance_m to each order")] = None,
) -> Response:
    """Mine and the untaken ones, with place, values, series and route stops; bins that are
    stops of an open route are on the route, not cards of their own."""
    point = orders_view.parse_numbers(near, 2, "near")
    items = crew_view.cards(conn, who, _ids(ids),
                            None if point is None else (point[0], point[1]))
    return json_response(request, {"items": items})


@router.post("/api/v1/work-orders/{order_id}/stops/{seq}/done",
             response_model=Card | OrderDetail,
             summary="Finish one stop of a collection route (the card; the order once closed)")
def stop_done(*, request: Request, conn: Conn, who: Anyone, order_id: OrderId,
              seq: Annotated[int, Path(ge=1, le=10_000)],
              body: NoteBody | None = None) -> Response:
    """Mark the stop emptied now (and the bin's empty-bin order done); the last stop
    finishes the route's order. 409 when the order is closed or the stop is done already."""
    at = event_time(request, body.at if body else None)
    with conn.transaction():
        order = orders_view.get(conn, who, order_id, lock=True)
        if order.kind != "collection_route":
            raise invalid("order_id", "only a collection route has stops", "path")
        if order.status not in orders.OPEN_STATUSES:
            raise Problem(409, f"work order {order_id} is {order.status} already",
                          slug="order-closed", order_id=order_id, order_status=order.status)
        params = order.params
        row = conn.execute(
            "UPDATE route_plan_stops SET done_at = coalesce(%s, now()) WHERE plan_id = %s "
            "AND route_no = %s AND seq = %s AND done_at IS NULL RETURNING bin_id, done_at",
            (at, params.get("plan_id"), params.get("route_no"), seq)).fetchone()
        if row is None:
            exists = conn.execute(
                "SELECT done_at FROM route_plan_stops WHERE plan_id = %s AND route_no = %s "
                "AND seq = %s", (params.get("plan_id"), params.get("route_no"), seq)).fetchone()
            if exists is None:
                raise not_found(f"stop {seq} of work order {order_id}")
            raise Problem(409, f"stop {seq} of work order {order_id} is done already",
                          slug="stop-done", order_id=order_id, seq=seq)
        orders.record(conn, order, row[1], who.actor, "stop_done",
                      note=body.note if body else None, data={"seq": seq, "bin_id": row[0]})
        # The bin's own empty-bin order is done with its stop.
        for (bin_order,) in conn.execute(
                "SELECT id FROM work_orders WHERE kind = 'empty_bin' AND subject_type = 'bin' "
                "AND subject_id = %s AND status = ANY(%s)",
                (row[0], list(orders.OPEN_STATUSES))).fetchall():
            orders.transition(conn, int(bin_order), "done", who.actor,
                              f"emptied on the route of work order {order_id}",
                              assignee=who.assignee, at=row[1])
        left = conn.execute(
            "SELECT count(*) FROM route_plan_stops WHERE plan_id = %s AND route_no = %s "
            "AND done_at IS NULL", (params.get("plan_id"), params.get("route_no"))).fetchone()
        if left is not None and left[0] == 0:
            try:
                orders.move(conn, order, "done", who.actor, "every stop emptied",
                                  assignee=who.assignee, at=row[1])
            except IllegalTransition as exc:
                raise conflict(exc) from exc
        found = crew_view.cards(conn, who, [order_id]) if who.role in ("crew", "admin") else []
    if found:
        return json_response(request, found[0])
    # Closed by its last stop (or a planner asked): the order as the order API shows it.
    return json_response(request, orders_view.load(conn, who, order_id))
