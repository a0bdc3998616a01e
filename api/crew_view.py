"""Work orders as the crew app's cards: everything a card shows, in one query for the list.

A card needs its place (the asset's name, a device's asset, a citizen's address, else its
coordinates — never a bare device EUI), the current value and threshold, the forecast, a
small series from the order's evidence, why it has its priority, and for a collection route
its stops in order with their fill. Bins that are stops of an open route are left out as
cards of their own: the route is where they are done.
"""

from __future__ import annotations

from typing import Any

from api import orders_view
from api.database import Connection
from api.users import Principal
from rules.orders import OPEN_STATUSES

CARD = (*orders_view.SUMMARY, "params", "evidence", "condition_since", "last_seen_at")
SERIES_POINTS = 10
_PLACE = """
CASE o.subject_type
  WHEN 'bin' THEN (SELECT coalesce(b.name, b.id) FROM bins b WHERE b.id = o.subject_id)
  WHEN 'green_area' THEN (SELECT g.name FROM green_areas g WHERE g.id = o.subject_id)
  WHEN 'vehicle' THEN (SELECT v.name FROM vehicles v WHERE v.id = o.subject_id)
  WHEN 'device' THEN (SELECT coalesce(
      (SELECT b.name FROM bins b WHERE d.asset_type = 'bin' AND b.id = d.asset_id),
      (SELECT g.name FROM green_areas g WHERE d.asset_type = 'green_area'
                                         AND g.id = d.asset_id),
      (SELECT v.name FROM vehicles v WHERE d.asset_type = 'vehicle' AND v.id = d.asset_id),
      d.name) FROM devices d WHERE d.dev_eui = o.subject_id)
END"""
_ADDRESS = """(SELECT r.address_string FROM defects x JOIN open311_requests r
  ON r.defect_id = x.id WHERE x.order_id = o.id AND r.address_string IS NOT NULL
  ORDER BY x.id LIMIT 1)"""
_REPORT = """(SELECT x.description FROM defects x WHERE x.order_id = o.id
  AND x.source = 'citizen' AND x.description IS NOT NULL ORDER BY x.id LIMIT 1)"""
# How many citizens' reports on the order are still open: they are told when it is done, with
# the crew's public note (rules/citizen.py), so the card offers one.
_CITIZENS = """(SELECT count(*) FROM defects x WHERE x.order_id = o.id
  AND x.source = 'citizen' AND x.status = 'open')"""
# An empty-bin order whose bin is a stop still to do on an open route is shown on the route.
_ON_ROUTE = """EXISTS (SELECT 1 FROM route_plan_stops s
  JOIN route_plan_routes rr USING (plan_id, route_no)
  JOIN work_orders ro ON ro.id = rr.order_id
  WHERE s.bin_id = o.subject_id AND s.done_at IS NULL AND ro.status = ANY(%(open)s))"""
_COLUMNS = ", ".join("o." + c for c in CARD)
_SELECT = (f"SELECT {_COLUMNS}, {_PLACE}, {_ADDRESS}, {_REPORT}, {_CITIZENS} "  # noqa: S608
           "FROM work_orders o")
_STOPS = """SELECT s.plan_id, s.route_no, s.seq, s.bin_id, coalesce(b.name, s.bin_id),
  s.latitude, s.longitude, s.eta, s.fill_now_pct, s.expected_fill_pct, s.done_at,
  (SELECT f.fill_pct FROM bin_fill f WHERE f.bin_id = s.bin_id
   ORDER BY f.time DESC LIMIT 1)
FROM route_plan_stops s LEFT JOIN bins b ON b.id = s.bin_id
WHERE (s.plan_id, s.route_no) IN (SELECT unnest(%s::bigint[]), unnest(%s::smallint[]))
ORDER BY s.plan_id, s.route_no, s.seq"""
STOP_KEYS = ("seq", "bin_id", "name", "latitude", "longitude", "eta", "planned_fill_pct",
             "expected_fill_pct", "done_at", "fill_pct")


def series(evidence: list[dict[str, Any]]) -> list[list[Any]]:
    """The evidence as [time, value] points (fill % for bins), oldest first, at most ten."""
    points = []
    for e in evidence:
        value = e.get("fill_pct", e.get("value"))
        if isinstance(value, int | float) and isinstance(e.get("time"), str):
            points.append([e["time"], round(float(value), 1)])
    points.sort(key=lambda p: str(p[0]))
    return points[-SERIES_POINTS:]


def card(row: tuple[Any, ...], near: tuple[float, float] | None) -> dict[str, Any]:
    """One row as a card: the list's fields, place, facts, series and priority's reason."""
    item = orders_view.summary(row[:len(orders_view.SUMMARY)], near)
    params, evidence, since, seen = row[len(orders_view.SUMMARY):len(CARD)]
    place, address, report, citizens = row[len(CARD):]
    ages = int(params.get("age_steps", 0) or 0)
    item.update(
        place=place or address, address=address, report=report,
        citizen_reports=int(citizens or 0),
        condition_since=since, last_seen_at=seen, series=series(evidence),
        threshold=params.get("fill_threshold_pct", params.get("low_pct")),
        forecast_full_at=params.get("forecast_full_at"),
        reason=params.get("reason"), age_steps=ages,
        # How much water a watering order asks for (rules/water_balance.py Dose.params).
        water={k: params[k] for k in ("litres", "litres_per_m2", "litres_per_tree", "trees")
               if params.get(k) is not None} or None,
        # The rule's own priority before the age steps raised it (1 is the most urgent).
        base_priority=min(5, item["priority"] + ages),
        route=None)
    if item["kind"] == "collection_route":
        item["route"] = {"plan_id": params.get("plan_id"), "route_no": params.get("route_no"),
                         "distance_m": params.get("distance_m"), "stops": []}
    return item


def cards(conn: Connection, who: Principal, ids: list[int] | None = None,
          near: tuple[float, float] | None = None) -> list[dict[str, Any]]:
    """The active orders `who` may see (only `ids` when given), as cards."""
    where = ["o.status = ANY(%(open)s)", f"NOT (o.kind = 'empty_bin' AND {_ON_ROUTE})"]
    params: dict[str, Any] = {"open": list(OPEN_STATUSES), "crew": who.crew}
    if who.crew is not None:
        where.append(orders_view.CREW_VISIBLE)
    if ids is not None:
        where.append("o.id = ANY(%(ids)s)")
        params["ids"] = ids
    rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY o.priority, o.id",
                        params).fetchall()
    items = [card(r, near) for r in rows]
    routes = {(i["route"]["plan_id"], i["route"]["route_no"]): i["route"] for i in items
              if i["route"] is not None and i["route"]["plan_id"] is not None}
    if routes:
        keys = list(routes)
        for s in conn.execute(_STOPS, ([k[0] for k in keys], [k[1] for k in keys])):
            routes[(s[0], s[1])]["stops"].append(dict(zip(STOP_KEYS, s[2:], strict=True)))
    return items
