"""Work orders as the API shows them: filters, visibility by role, one order with its story.

A crew sees the orders assigned to it and the open orders nobody has taken yet (the pool it
may pick from); planners and administrators see all. Reporters' e-mail addresses on citizen
defects are shown to administrators only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from api import pagination
from api.database import Connection
from api.problems import invalid, not_found
from api.users import Principal
from bauhof.geo import distance_m
from rules import orders
from rules.errors import OrderNotFound
from rules.orders import OPEN_STATUSES, TRANSITIONS

STATUSES = tuple(TRANSITIONS)
KINDS = ("watering", "empty_bin", "collection_route", "sensor_maintenance",
         "bin_maintenance", "vehicle", "citizen_defect")
SUMMARY = orders.HEAD_COLUMNS
# An order's story, each table's rows as one array per column: the whole detail is the order
# (which a transition has already) and this one query.
HISTORY = tuple(f.name for f in fields(orders.HistoryEntry))
DEFECTS = ("id", "kind", "source", "status", "description", "opened_at", "resolved_at",
           "reporter_email", "service_code")
PHOTOS = ("id", "content_type", "size_bytes", "uploaded_by", "uploaded_at")


def _arrays(table: str, columns: tuple[str, ...]) -> str:
    aggregates = ", ".join(f"array_agg({c} ORDER BY id)" for c in columns)
    return f"(SELECT {aggregates} FROM {table} WHERE order_id = %(id)s)"  # noqa: S608


_STORY = (f"SELECT * FROM {_arrays('order_history', HISTORY)} h, "  # noqa: S608
          f"{_arrays('defects', DEFECTS)} d, {_arrays('order_photos', PHOTOS)} p")
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
    for column, value in (("assignee", f.assignee), ("subject_type", f.subject_type),
                          ("subject_id", f.subject_id)):
        if value is not None:
            where.append(f"o.{column} = %({column})s")
            params[column] = value
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


def get(conn: Connection, who: Principal, order_id: int, *, lock: bool = False) -> (
    orders.Order
):
    """The order if `who` may see it (locked FOR UPDATE when asked); 404 otherwise."""
    try:
        order = orders.get(conn, order_id, lock=lock)
    except OrderNotFound as exc:
        raise not_found(f"work order {order_id}") from exc
    if not visible(who, order.assignee, order.status):
        raise not_found(f"work order {order_id}")
    return order


def _rows(columns: tuple[str, ...], arrays: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows from one array per column (all None when the table had none)."""
    return [dict(zip(columns, values, strict=True))
            for values in zip(*(a or () for a in arrays), strict=True)]


def detail(conn: Connection, who: Principal, order: orders.Order) -> dict[str, Any]:
    """The order with its history, defects and photos (one query for those three)."""
    row = conn.execute(_STORY, {"id": order.id}).fetchone()
    assert row is not None  # aggregates always answer one row
    h, d = len(HISTORY), len(HISTORY) + len(DEFECTS)
    item = asdict(order)
    item["distance_m"] = None
    item["history"] = _rows(HISTORY, row[:h])
    admin = who.role == "admin"
    item["defects"] = [{**x, "reporter_email": x["reporter_email"] if admin else None}
                       for x in _rows(DEFECTS, row[h:d])]
    item["photos"] = [{"id": p["id"], "url": f"/api/v1/work-orders/{order.id}/photos/{p['id']}",
                       **{k: v for k, v in p.items() if k != "id"}}
                      for p in _rows(PHOTOS, row[d:])]
    return item


def load(conn: Connection, who: Principal, order_id: int) -> dict[str, Any]:
    """One order with evidence, history, defects and photos; 404 if absent or not visible."""
    return detail(conn, who, get(conn, who, order_id))
