"""Plans stored with routes and stops, turned into collection-route orders, re-planned,
previewed, and marked done by the fill drops that follow."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg

from planning import plans, previews
from rules import orders
from tests.planning.factory import add_fills

TUESDAY = date(2026, 6, 2)


def stops_of(conn: psycopg.Connection[Any], plan_id: int) -> list[tuple[Any, ...]]:
    """(route, seq, bin, reason) of a stored plan."""
    return conn.execute("SELECT route_no, seq, bin_id, reason FROM route_plan_stops "
                        "WHERE plan_id = %s ORDER BY route_no, seq", (plan_id,)).fetchall()


def test_plan_is_stored_and_becomes_an_order(town: psycopg.Connection[Any]) -> None:
    plan = previews.create(town, TUESDAY, by="planner:paula")
    doc = plan.summary()
    assert (doc["plan_date"], doc["bins_selected"], doc["bins_planned"], doc["unplanned"],
            doc["feasible"], doc["settings_version"]) == ("2026-06-02", 3, 3, [], True, 1)
    assert plan.as_of == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert plan.starts_at == datetime(2026, 6, 2, 4, 30, tzinfo=UTC)
    assert sorted((s.bin_id, s.reason) for s in plan.selected) == [
        ("bin-1", "threshold"), ("bin-2", "overflow"), ("bin-4", "forecast")]
    (route,) = plan.routes
    assert (route.route_no, route.vehicle_id, route.capacity_l) == (1, "veh-1", 2000.0)
    stored = stops_of(town, plan.id or 0)
    assert [row[2] for row in stored] == [s.bin_id for s in route.stops]
    assert [row[1] for row in stored] == [1, 2, 3]
    bin_1 = next(s for s in route.stops if s.bin_id == "bin-1")
    assert (bin_1.fill_now_pct, bin_1.expected_fill_pct) == (90.0, 90.0)

    order = orders.get(town, route.order_id or 0)
    assert (order.kind, order.rule, order.subject_type, order.subject_id, order.status) == (
        "collection_route", "routes.2026-06-02", "vehicle", "veh-1", "open")
    assert order.title == (f"Collection route 1 on Tue 02.06.: 3 bins, "
                           f"{route.distance_m / 1000:.1f} km")
    assert [s["bin_id"] for s in order.params["stops"]] == [s.bin_id for s in route.stops]
    assert order.params["plan_id"] == plan.id
    assert plans.summary(town, plan.id or 0)["routes"][0]["order_id"] == order.id


def test_replanning_keeps_the_vehicles_orders_and_cancels_the_rest(
        town: psycopg.Connection[Any]) -> None:
    first = previews.create(town, TUESDAY, by="planner:paula")
    second = previews.create(town, TUESDAY, by="planner:paula",
                             overrides={"fill_threshold_pct": 60})
    statuses = town.execute("SELECT id, status FROM route_plans ORDER BY id").fetchall()
    assert statuses == [(first.id, "superseded"), (second.id, "active")]
    # veh-1 drives in both plans: its order of the day is the same one, with the new stops.
    assert first.routes[0].order_id == second.routes[0].order_id
    order = orders.get(town, second.routes[0].order_id or 0)
    assert (order.status, order.subject_id, order.params["plan_id"]) == (
        "open", "veh-1", second.id)
    assert [s["bin_id"] for s in order.params["stops"]] == [
        s.bin_id for s in second.routes[0].stops]
    last = orders.history(town, order.id)[-1]
    assert (last.event, last.note) == (
        "replanned", f"re-planned: plan {second.id} replaces plan {first.id}")
    # bin-2 (67 %) and bin-4 (68.5 %) when the shift starts: over the lower threshold now.
    assert sorted((s.bin_id, s.reason) for s in second.selected) == [
        ("bin-1", "threshold"), ("bin-2", "threshold"), ("bin-4", "threshold")]

    # Only veh-2 may drive: veh-1's order is cancelled, veh-2 gets one of its own.
    third = previews.create(town, TUESDAY, by="planner:paula", overrides={
        "fill_threshold_pct": 60, "vehicles": [{"id": "veh-2", "capacity_l": 5000}]})
    assert orders.get(town, order.id).status == "cancelled"
    assert orders.history(town, order.id)[-1].note == f"re-planned: plan {second.id} superseded"
    assert [r.vehicle_id for r in third.routes] == ["veh-2"]
    assert town.execute(
        "SELECT subject_id, status FROM work_orders WHERE kind = 'collection_route' "
        "ORDER BY id").fetchall() == [("veh-1", "cancelled"), ("veh-2", "open")]


def test_previews_have_no_orders_and_replace_each_other(town: psycopg.Connection[Any]) -> None:
    one = previews.preview(town, 95.0, 0.0, TUESDAY)
    again = previews.preview(town, 95.0, 0.0, TUESDAY)
    other = previews.preview(town, 60.0, 48.0, TUESDAY)
    rows = town.execute("SELECT id, kind, threshold_pct, horizon_h, bins_selected "
                        "FROM route_plans ORDER BY id").fetchall()
    assert rows == [(again.id, "preview", 95.0, 0.0, 1), (other.id, "preview", 60.0, 48.0, 3)]
    assert one.id != again.id
    assert town.execute("SELECT count(*) FROM work_orders").fetchone() == (0,)
    assert [s.bin_id for s in again.selected] == ["bin-2"]


def test_fill_drops_mark_stops_done_and_close_the_route(town: psycopg.Connection[Any]) -> None:
    plan = previews.create(town, TUESDAY, by="planner:paula")
    # The crew empties bin-1 and bin-2 at 05:00 and 05:20 UTC; bin-4 later.
    add_fills(town, "bin-1", [(28.5, 90.0), (29.0, 1.0)])
    add_fills(town, "bin-2", [(28.5, 70.0), (29.33, 2.0)])
    assert plans.mark_done(town, datetime(2026, 6, 2, 6, tzinfo=UTC)) == 2
    order_id = plan.routes[0].order_id or 0
    assert orders.get(town, order_id).status == "open"
    add_fills(town, "bin-4", [(29.5, 70.0), (30.0, 3.0)])
    assert plans.mark_done(town, datetime(2026, 6, 2, 7, tzinfo=UTC)) == 1
    done = orders.get(town, order_id)
    assert (done.status, done.resolved_by) == ("done", "planner")
    assert done.resolved_at == datetime(2026, 6, 2, 6, tzinfo=UTC)
    assert plans.mark_done(town, datetime(2026, 6, 2, 8, tzinfo=UTC)) == 0


def test_the_routes_vehicle_at_a_bin_marks_the_stop(town: psycopg.Connection[Any]) -> None:
    plan = previews.create(town, TUESDAY, by="planner:paula")
    lat, lon = town.execute("SELECT latitude, longitude FROM bins WHERE id = 'bin-4'"
                            ).fetchone() or (0.0, 0.0)
    town.execute(
        "INSERT INTO readings (time, dev_eui, deduplication_id, asset_type, asset_id, latitude,"
        " longitude) VALUES (%s, 'b1b1b1b1b1b1b1b1', gen_random_uuid(), 'vehicle', 'veh-1',"
        " %s, %s)", (datetime(2026, 6, 2, 5, 10, tzinfo=UTC), lat + 0.0001, lon))
    assert plans.mark_done(town, datetime(2026, 6, 2, 6, tzinfo=UTC)) == 1
    done = town.execute("SELECT bin_id, done_at FROM route_plan_stops WHERE plan_id = %s "
                        "AND done_at IS NOT NULL", (plan.id,)).fetchall()
    assert done == [("bin-4", datetime(2026, 6, 2, 5, 10, tzinfo=UTC))]
