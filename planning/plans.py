"""Stored plans: routes with ordered stops, and a `collection_route` work order per route.

A plan (kind `plan`) is the day's routes; planning the same day again supersedes the active
plan: a vehicle that drives in both keeps its open order (updated with the new stops, so
re-planning never duplicates orders), and the open orders of vehicles no longer used are
cancelled. A preview (kind `preview`) is the same
computation stored for the dashboards, without orders; only the latest preview per
(day, threshold, horizon) is kept. Stops are marked done by the fill drop that follows
or by the route's vehicle reported at the bin (`mark_done`); a route whose stops are all
done closes its order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from planning.planner import Plan, PlannedRoute
from rules import orders
from rules.actions import Open

RULE_PREFIX = "routes."
ACTOR = "planner"
EMPTIED_DROP_PCT = 40.0
# A position of the route's vehicle this close to a bin marks the stop done too.
ARRIVAL_RADIUS_M = 30.0


def rule_for(plan: Plan) -> str:
    """The rule name of a plan's orders: one open order per vehicle and day."""
    return f"{RULE_PREFIX}{plan.plan_date.isoformat()}"


def store(conn: psycopg.Connection[Any], plan: Plan, by: str) -> Plan:
    """Store the plan (and, for kind plan, open its orders) in one transaction."""
    with conn.transaction():
        kept: dict[str, tuple[int, int]] = {}
        if plan.kind == "plan":
            kept = _supersede(conn, plan, by)
        else:
            conn.execute(
                "DELETE FROM route_plans WHERE kind = 'preview' AND plan_date = %s "
                "AND threshold_pct IS NOT DISTINCT FROM %s AND horizon_h = %s",
                (plan.plan_date, plan.settings.fill_threshold_pct, plan.settings.horizon_h))
        row = conn.execute(
            "INSERT INTO route_plans (kind, plan_date, settings_version, settings, "
            "threshold_pct, horizon_h, as_of, starts_at, bins_selected, bins_planned, "
            "unplanned, distance_m, duration_s, feasible, solver, created_by) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (plan.kind, plan.plan_date, plan.settings_version,
             Jsonb(plan.settings.model_dump(mode="json")), plan.settings.fill_threshold_pct,
             plan.settings.horizon_h, plan.as_of, plan.starts_at, len(plan.selected),
             sum(len(r.stops) for r in plan.routes), list(plan.unplanned), plan.distance_m,
             plan.duration_s, plan.feasible, Jsonb(plan.solver), by)).fetchone()
        assert row is not None
        plan_id = int(row[0])
        routes = []
        for route in plan.routes:
            order_id = None
            if plan.kind == "plan" and route.vehicle_id in kept:
                order_id, old_plan_id = kept[route.vehicle_id]
                order_id = _reuse_order(conn, plan, plan_id, route, by, order_id=order_id,
                                        old_plan_id=old_plan_id)
            elif plan.kind == "plan":
                order_id = _open_order(conn, plan, plan_id, route, by)
            _insert_route(conn, plan_id, route, order_id)
            routes.append(_with_order(route, order_id))
    return Plan(plan.kind, plan.plan_date, plan.settings_version, plan.settings, plan.as_of,
                plan.starts_at, plan.selected, tuple(routes), plan.unplanned, plan.distance_m,
                plan.duration_s, plan.feasible, plan.solver, plan_id)


def _with_order(route: PlannedRoute, order_id: int | None) -> PlannedRoute:
    return PlannedRoute(route.route_no, route.vehicle_id, route.stops, route.distance_m,
                        route.duration_s, route.load_l, route.capacity_l, order_id)


def _supersede(conn: psycopg.Connection[Any], plan: Plan, by: str) -> dict[str, tuple[int, int]]:
    """Supersede the day's active plan; cancel the open orders of vehicles the new plan does
    not use and return the others as vehicle → (order id, old plan id)."""
    rows = conn.execute(
        "UPDATE route_plans SET status = 'superseded' WHERE kind = 'plan' AND plan_date = %s "
        "AND status = 'active' RETURNING id", (plan.plan_date,)).fetchall()
    driving = {r.vehicle_id for r in plan.routes}
    kept: dict[str, tuple[int, int]] = {}
    for (old_id,) in rows:
        open_orders = conn.execute(
            "SELECT o.id, r.vehicle_id FROM route_plan_routes r "
            "JOIN work_orders o ON o.id = r.order_id "
            "WHERE r.plan_id = %s AND o.status = ANY(%s) ORDER BY r.route_no",
            (old_id, list(orders.OPEN_STATUSES))).fetchall()
        for order_id, vehicle_id in open_orders:
            if vehicle_id in driving and vehicle_id not in kept:
                kept[str(vehicle_id)] = (int(order_id), int(old_id))
                continue
            orders.transition(conn, int(order_id), "cancelled", by,
                              note=f"re-planned: plan {old_id} superseded", at=plan.as_of)
    return kept


def _order_fields(plan: Plan, plan_id: int, route: PlannedRoute) -> tuple[
    str, datetime, dict[str, Any]
]:
    """Title, due time and params of a route's order."""
    km = route.distance_m / 1000
    title = (f"Collection route {route.route_no} on {plan.plan_date:%a %d.%m.}: "
             f"{len(route.stops)} bins, {km:.1f} km")
    params = {"plan_id": plan_id, "route_no": route.route_no,
              "plan_date": plan.plan_date.isoformat(), "distance_m": route.distance_m,
              "duration_s": route.duration_s, "load_l": route.load_l,
              "stops": stop_list(route)}
    return title, plan.starts_at + timedelta(seconds=route.duration_s), params


def _reuse_order(conn: psycopg.Connection[Any], plan: Plan, plan_id: int, route: PlannedRoute,
                 by: str, *, order_id: int, old_plan_id: int) -> int:
    """Give the vehicle's open order of the day the new route (the same order, no copy)."""
    title, due_at, params = _order_fields(plan, plan_id, route)
    first = route.stops[0] if route.stops else None
    conn.execute(
        "UPDATE work_orders SET title = %s, due_at = %s, params = %s, latitude = %s, "
        "longitude = %s, updated_at = now() WHERE id = %s",
        (title, due_at, Jsonb(params), first.latitude if first else None,
         first.longitude if first else None, order_id))
    orders.record(conn, orders.get(conn, order_id), plan.as_of, by, "replanned", note=(
        f"re-planned: plan {plan_id} replaces plan {old_plan_id}"), data={"plan_id": plan_id})
    return order_id


def _insert_route(conn: psycopg.Connection[Any], plan_id: int, route: PlannedRoute,
                  order_id: int | None) -> None:
    conn.execute(
        "INSERT INTO route_plan_routes (plan_id, route_no, vehicle_id, order_id, stops, "
        "distance_m, duration_s, load_l, capacity_l) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (plan_id, route.route_no, route.vehicle_id, order_id, len(route.stops),
         route.distance_m, route.duration_s, route.load_l, route.capacity_l))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO route_plan_stops (plan_id, route_no, seq, bin_id, reason, latitude, "
            "longitude, eta, fill_now_pct, expected_fill_pct, load_l) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(plan_id, route.route_no, s.seq, s.bin_id, s.reason, s.latitude, s.longitude,
              s.eta, s.fill_now_pct, s.expected_fill_pct, s.load_l) for s in route.stops])


def stop_list(route: PlannedRoute) -> list[dict[str, Any]]:
    """The ordered stops as an order carries them in params.stops."""
    return [{"seq": s.seq, "bin_id": s.bin_id, "reason": s.reason, "latitude": s.latitude,
             "longitude": s.longitude, "eta": s.eta.isoformat(),
             "expected_fill_pct": s.expected_fill_pct} for s in route.stops]


def _open_order(conn: psycopg.Connection[Any], plan: Plan, plan_id: int, route: PlannedRoute,
                by: str) -> int:
    title, due_at, params = _order_fields(plan, plan_id, route)
    action = Open(
        rule=rule_for(plan), kind="collection_route", subject_type="vehicle",
        subject_id=route.vehicle_id, at=plan.as_of, title=title, priority=3, due_at=due_at,
        params=params)
    first = route.stops[0] if route.stops else None
    order_id, _ = orders.apply_open(conn, action, by, location=(
        (first.latitude, first.longitude) if first else None))
    return order_id


def mark_done(conn: psycopg.Connection[Any], until: datetime, by: str = ACTOR) -> int:
    """Mark stops done by the fill drop (or the route's vehicle at the bin) after their
    plan's start; close the orders of routes whose stops are all done."""
    rows = conn.execute(
        "WITH emptied AS ("
        " SELECT s.plan_id, s.route_no, s.seq, d.time FROM route_plan_stops s"
        " JOIN route_plans p ON p.id = s.plan_id"
        " JOIN route_plan_routes rr ON rr.plan_id = s.plan_id AND rr.route_no = s.route_no"
        " CROSS JOIN LATERAL (SELECT min(x.time) AS time FROM ("
        "  (SELECT f.time FROM (SELECT time, fill_pct,"
        "    lag(fill_pct) OVER (ORDER BY time) AS prev FROM bin_fill"
        "    WHERE bin_id = s.bin_id AND time >= p.starts_at - interval '1 hour'"
        "    AND time <= %(until)s) f"
        "   WHERE f.time >= p.starts_at AND f.prev - f.fill_pct >= %(drop)s"
        "   ORDER BY f.time LIMIT 1)"
        "  UNION ALL"
        "  (SELECT r.time FROM readings r WHERE r.asset_type = 'vehicle'"
        "    AND r.asset_id = rr.vehicle_id AND r.time >= p.starts_at"
        "    AND r.time <= %(until)s AND r.latitude IS NOT NULL"
        "    AND bauhof_distance_m(r.latitude, r.longitude, s.latitude, s.longitude)"
        "        <= %(radius)s"
        "   ORDER BY r.time LIMIT 1)) x) d"
        " WHERE p.kind = 'plan' AND p.status = 'active' AND s.done_at IS NULL"
        " AND p.starts_at <= %(until)s AND d.time IS NOT NULL) "
        "UPDATE route_plan_stops s SET done_at = e.time FROM emptied e "
        "WHERE s.plan_id = e.plan_id AND s.route_no = e.route_no AND s.seq = e.seq "
        "RETURNING s.plan_id, s.route_no",
        {"until": until, "drop": EMPTIED_DROP_PCT, "radius": ARRIVAL_RADIUS_M}).fetchall()
    finished = conn.execute(
        "SELECT r.order_id, max(s.done_at) FROM route_plan_routes r "
        "JOIN route_plan_stops s USING (plan_id, route_no) "
        "JOIN work_orders o ON o.id = r.order_id "
        "WHERE o.status = ANY(%s) AND (r.plan_id, r.route_no) IN "
        "(SELECT unnest(%s::bigint[]), unnest(%s::smallint[])) "
        "GROUP BY r.order_id HAVING bool_and(s.done_at IS NOT NULL)",
        (list(orders.OPEN_STATUSES), [r[0] for r in rows], [r[1] for r in rows])).fetchall()
    for order_id, done_at in finished:
        orders.transition(conn, int(order_id), "done", by, note="every stop emptied",
                          at=done_at)
    return len(rows)


def summary(conn: psycopg.Connection[Any], plan_id: int) -> dict[str, Any] | None:
    """A stored plan with its routes and stops, JSON-ready; None if there is none."""
    row = conn.execute(
        "SELECT id, kind, plan_date, status, settings_version, threshold_pct, horizon_h, "
        "as_of, starts_at, bins_selected, bins_planned, unplanned, distance_m, duration_s, "
        "feasible, solver, created_at, created_by FROM route_plans WHERE id = %s",
        (plan_id,)).fetchone()
    if row is None:
        return None
    keys = ("id", "kind", "plan_date", "status", "settings_version", "threshold_pct",
            "horizon_h", "as_of", "starts_at", "bins_selected", "bins_planned", "unplanned",
            "distance_m", "duration_s", "feasible", "solver", "created_at", "created_by")
    doc = dict(zip(keys, row, strict=True))
    routes = conn.execute(
        "SELECT route_no, vehicle_id, order_id, stops, distance_m, duration_s, load_l, "
        "capacity_l FROM route_plan_routes WHERE plan_id = %s ORDER BY route_no",
        (plan_id,)).fetchall()
    stops = conn.execute(
        "SELECT route_no, seq, bin_id, reason, latitude, longitude, eta, fill_now_pct, "
        "expected_fill_pct, load_l, done_at FROM route_plan_stops WHERE plan_id = %s "
        "ORDER BY route_no, seq", (plan_id,)).fetchall()
    stop_keys = ("seq", "bin_id", "reason", "latitude", "longitude", "eta", "fill_now_pct",
                 "expected_fill_pct", "load_l", "done_at")
    doc["routes"] = [
        {"route_no": r[0], "vehicle_id": r[1], "order_id": r[2], "stops": r[3],
         "distance_m": r[4], "duration_s": r[5], "load_l": r[6], "capacity_l": r[7],
         "stop_list": [dict(zip(stop_keys, s[1:], strict=True)) for s in stops
                       if s[0] == r[0]]}
        for r in routes]
    return doc
