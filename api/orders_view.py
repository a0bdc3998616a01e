"""Work orders as the API shows them: filters, visibility by role, one order with its story.

A crew sees the orders assigned to it and the open orders nobody has taken yet (the pool it
may pick from); planners and administrators see all. Reporters' e-mail addresses on citizen
defects are shown to administrators only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api import pagination
from api.database import Connection
from api.problems import invalid, not_found
from api.users import Principal
from bauhof.geo import distance_m
from rules.orders import OPEN_STATUSES, TRANSITIONS

STATUSES = tuple(TRANSITIONS)
KINDS = ("watering", "empty_bin", "collection_route", "sensor_maintenance",
         "bin_maintenance", "vehicle", "citizen_defect")
SUMMARY = ("id", "kind", "status", "subject_type", "subject_id", "rule", "priority", "title",
           "assignee", "opened_at", "due_at", "resolved_at", "resolved_by", "last_value",
           "latitude", "longitude", "updated_at")
DETAIL = ("params", "evidence", "condition_since", "last_seen_at", "reminders")
_SELECT = f"SELECT {', '.join(SUMMARY + DETAIL)} FROM work_orders o"  # noqa: S608
_SELECT_SUMMARY = f"SELECT {', '.join(SUMMARY)} FROM work_orders o"  # noqa: S608
# What a crew may see, as SQL over `o`, with the crew's assignee value as %(crew)s.
CREW_VISIBLE = ("(o.assignee = %(crew)s OR (o.status = 'open' AND o.assignee IS NULL))")


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """The list's query parameters, validated."""

    statuses: list[str] | None = None
    kinds: list[str] | None = None
    assignee: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    due_before: datetime | None = None
    near: tuple[float, float] | None = None


def split_list(value: str | None, allowed: tuple[str, ...], field: str) -> list[str] | None:
    """A comma-separated query value checked against the allowed values."""
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if "active" in items and field == "status":
        items = [i for i in items if i != "active"] + list(OPEN_STATUSES)
    bad = [i for i in items if i not in allowed]
    if bad or not items:
        raise invalid(field, f"{bad or value!r} not allowed; use comma-separated values of "
                             f"{', '.join(allowed)}", "query")
    return items


def parse_numbers(value: str | None, count: int, field: str) -> tuple[float, ...] | None:
    """`count` comma-separated finite numbers, or None when the parameter is absent."""
    if value is None:
        return None
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) != count or not all(math.isfinite(n) for n in numbers):
        raise invalid(field, f"expected {count} comma-separated numbers", "query")
    return numbers


def summary(row: tuple[Any, ...], near: tuple[float, float] | None = None) -> dict[str, Any]:
    """An order row as the list shows it."""
    item = dict(zip(SUMMARY, row[:len(SUMMARY)], strict=True))
    item["distance_m"] = None
    if near is not None and item["latitude"] is not None and item["longitude"] is not None:
        item["distance_m"] = round(distance_m(near[0], near[1], item["latitude"],
                                              item["longitude"]), 1)
    return item


def list_orders(conn: Connection, who: Principal, f: OrderFilter, *, sort: str,
                cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of orders visible to `who`."""
    where = ["true"]
    params: dict[str, Any] = {"crew": who.crew, "n": limit + 1}
    if who.crew is not None:
        where.append(CREW_VISIBLE)
    if f.statuses:
        where.append("o.status = ANY(%(statuses)s)")
        params["statuses"] = f.statuses
    if f.kinds:
        where.append("o.kind = ANY(%(kinds)s)")
        params["kinds"] = f.kinds
    if f.assignee is not None:
        where.append("o.assignee = %(assignee)s")
        params["assignee"] = f.assignee
    if f.subject_type is not None:
        where.append("o.subject_type = %(subject_type)s")
        params["subject_type"] = f.subject_type
    if f.subject_id is not None:
        where.append("o.subject_id = %(subject_id)s")
        params["subject_id"] = f.subject_id
    if f.bbox is not None:
        where.append("o.longitude BETWEEN %(x0)s AND %(x1)s "
                     "AND o.latitude BETWEEN %(y0)s AND %(y1)s")
        params.update(x0=f.bbox[0], y0=f.bbox[1], x1=f.bbox[2], y1=f.bbox[3])
    if f.due_before is not None:
        where.append("o.due_at < %(due)s")
        params["due"] = f.due_before
    if sort == "priority":
        order = "o.priority, o.id"
        if cursor:
            params["cp"], params["ci"] = pagination.decode(cursor, sort, (int, int))
            where.append("(o.priority, o.id) > (%(cp)s, %(ci)s)")
    else:
        order = "o.id DESC"
        if cursor:
            params["ci"] = pagination.decode(cursor, sort, (int,))[0]
            where.append("o.id < %(ci)s")
    rows = conn.execute(f"{_SELECT_SUMMARY} WHERE {' AND '.join(where)} "
                        f"ORDER BY {order} LIMIT %(n)s", params, binary=True).fetchall()
    items = [summary(r, f.near) for r in rows]

    def key(item: dict[str, Any]) -> list[Any]:
        return [item["priority"], item["id"]] if sort == "priority" else [item["id"]]

    return pagination.page(items, limit, sort, key)


def visible(who: Principal, assignee: str | None, status: str) -> bool:
    """Whether `who` may see an order with this assignee and status."""
    if who.crew is None:
        return True
    return assignee == who.crew or (status == "open" and assignee is None)


def load(conn: Connection, who: Principal, order_id: int) -> dict[str, Any]:
    """One order with evidence, history, defects and photos; 404 if absent or not visible."""
    row = conn.execute(f"{_SELECT} WHERE o.id = %s", (order_id,)).fetchone()
    if row is None:
        raise not_found(f"work order {order_id}")
    order = summary(row)
    if not visible(who, order["assignee"], order["status"]):
        raise not_found(f"work order {order_id}")
    order.update(zip(DETAIL, row[len(SUMMARY):], strict=True))
    history = conn.execute(
        "SELECT id, at, actor, event, from_status, to_status, note, data FROM order_history "
        "WHERE order_id = %s ORDER BY id", (order_id,)).fetchall()
    order["history"] = [dict(zip(("id", "at", "actor", "event", "from_status", "to_status",
                                  "note", "data"), h, strict=True)) for h in history]
    defects = conn.execute(
        "SELECT id, kind, source, status, description, opened_at, resolved_at, "
        "reporter_email, service_code FROM defects WHERE order_id = %s ORDER BY id",
        (order_id,)).fetchall()
    admin = who.role == "admin"
    order["defects"] = [{"id": d[0], "kind": d[1], "source": d[2], "status": d[3],
                         "description": d[4], "opened_at": d[5], "resolved_at": d[6],
                         "reporter_email": d[7] if admin else None, "service_code": d[8]}
                        for d in defects]
    photos = conn.execute(
        "SELECT id, content_type, size_bytes, uploaded_by, uploaded_at FROM order_photos "
        "WHERE order_id = %s ORDER BY id", (order_id,)).fetchall()
    order["photos"] = [{"id": p[0], "url": f"/api/v1/work-orders/{order_id}/photos/{p[0]}",
                        "content_type": p[1], "size_bytes": p[2], "uploaded_by": p[3],
                        "uploaded_at": p[4]} for p in photos]
    return order
