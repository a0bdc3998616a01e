"""A stored collection route (as planning/plans.py stores one) for the crew app's tests."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.api.town import open_order
from tests.rules import factory as f

# (bin, name, lat, lon, fill now, expected fill) in route order.
STOPS = (("R1", "Rathausplatz", 48.5961, 8.8701, 85.0, 90.0),
         ("R2", "Schulhof", 48.5972, 8.8722, 70.0, 82.0),
         ("R3", "Friedhof Ost", 48.5983, 8.8743, 65.0, 81.0))


def build(conn: psycopg.Connection[Any], assignee: str | None = "crew:nord") -> dict[str, int]:
    """Bins R1-R3 on route 1 of an active plan (their empty-bin orders open too), bin R4 off
    the route with an order of its own; returns the order ids by name."""
    found = bins(conn)
    found["route"] = plan(conn, assignee)
    return found


def bins(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Bins R1-R4 with a vehicle, each with an open empty-bin order; the ids by bin."""
    f.vehicle(conn, "v1", dev=3)
    for i, (bid, name, lat, lon, _, _) in enumerate((*STOPS, ("R4", "Bahnhof", 48.6, 8.88,
                                                               0, 0)), start=1):
        conn.execute("INSERT INTO bins (id, name, latitude, longitude, volume_l, "
                     "empty_distance_mm, full_distance_mm) VALUES (%s, %s, %s, %s, 240, 1000, "
                     "100)", (bid, name, lat, lon))
        f.device(conn, 100 + i, "bin", "bin", "bin", bid, 3600)
    found = {}
    for bid, _, lat, lon, fill, _ in STOPS:
        found[bid] = open_order(conn, "bins.full", "empty_bin", "bin", bid, hours=2,
                                value=fill, location=(lat, lon))
    found["R4"] = open_order(conn, "bins.full", "empty_bin", "bin", "R4", hours=2, value=88.0,
                             params={"fill_threshold_pct": 80.0}, location=(48.6, 8.88))
    return found


def plan(conn: psycopg.Connection[Any], assignee: str | None = "crew:nord") -> int:
    """Route 1 over R1-R3 stored as planning/plans.py stores it; the route's order id."""
    row = conn.execute(
        "INSERT INTO route_plans (kind, plan_date, settings, horizon_h, as_of, starts_at, "
        "bins_selected, bins_planned, distance_m, duration_s, feasible, created_by) VALUES "
        "('plan', '2026-06-01', '{}', 24, %s, %s, 3, 3, 4200, 3600, true, 'planner:paula') "
        "RETURNING id", (f.at(0), f.at(4))).fetchone()
    assert row is not None
    plan_id = int(row[0])
    stops = [{"seq": i, "bin_id": s[0], "reason": "threshold", "latitude": s[2],
              "longitude": s[3], "eta": f.at(4 + i / 4).isoformat(), "expected_fill_pct": s[5]}
             for i, s in enumerate(STOPS, start=1)]
    with conn.transaction():
        # Stops first: when the route's order is announced its bins are on it already.
        conn.execute("INSERT INTO route_plan_routes (plan_id, route_no, vehicle_id, stops, "
                     "distance_m, duration_s, load_l, capacity_l) VALUES "
                     "(%s, 1, 'v1', 3, 4200, 3600, 180, 10000)", (plan_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO route_plan_stops (plan_id, route_no, seq, bin_id, reason, "
                "latitude, longitude, eta, fill_now_pct, expected_fill_pct, load_l) VALUES "
                "(%s, 1, %s, %s, 'threshold', %s, %s, %s, %s, %s, 60)",
                [(plan_id, i, s[0], s[2], s[3], f.at(4 + i / 4), s[4], s[5])
                 for i, s in enumerate(STOPS, start=1)])
        route = open_order(conn, "routes.2026-06-01", "collection_route", "vehicle", "v1",
                           hours=1, params={"plan_id": plan_id, "route_no": 1,
                                            "plan_date": "2026-06-01", "distance_m": 4200.0,
                                            "duration_s": 3600.0, "stops": stops},
                           location=(STOPS[0][2], STOPS[0][3]), assignee=assignee)
        conn.execute("UPDATE route_plan_routes SET order_id = %s WHERE plan_id = %s",
                     (route, plan_id))
    return route
