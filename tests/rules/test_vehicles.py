"""Vehicle rules: parked outside the depot after hours, arrival at an order, no fix."""

from __future__ import annotations

from typing import Any

from bauhof.assignee import Assignee
from rules import ruleset, vehicles
from rules.actions import Open, Progress
from rules.vehicles import VehicleState
from tests.rules.factory import at
from tests.rules.pure import kinds, reading

RULES = ruleset.parse("vehicles: {depot: {latitude: 52.0, longitude: 13.0, radius_m: 150}}")
P = RULES.vehicles_for("v1")
H = RULES.health_for("x")
FAR = (52.02, 13.02)  # about 2.6 km from the depot


def pos(state: VehicleState, hours: float, lat: float, lon: float,
        sites: list[vehicles.Site] | None = None, **kw: Any) -> list[Any]:
    return vehicles.on_reading(state, reading(hours, dev=3, latitude=lat, longitude=lon, **kw),
                               "v1", P, health=H, sites=sites or [])


def test_parked_outside_depot_after_hours() -> None:
    state = VehicleState()
    # 2026-06-01 is a Monday; 17:00 UTC is 19:00 in Berlin: after working hours.
    assert pos(state, 17, *FAR) == []
    assert pos(state, 19.9, *FAR) == []
    (opened,) = pos(state, 20, *FAR)
    assert isinstance(opened, Open)
    assert (opened.rule, opened.kind, opened.since) == ("vehicles.parked", "vehicle", at(17))
    assert kinds(pos(state, 21, 52.0, 13.0)) == ["Resolve"]  # back in the depot


def test_parked_during_working_hours_is_fine() -> None:
    state = VehicleState()
    # 05:00-15:00 UTC is 07:00-17:00 in Berlin.
    assert [pos(state, h, *FAR) for h in (5, 8, 11, 15)] == [[], [], [], []]


def test_parked_in_the_depot_is_fine() -> None:
    state = VehicleState()
    assert [pos(state, h, 52.0005, 13.0) for h in (17, 20, 23)] == [[], [], []]


def test_arrival_at_an_open_order_moves_it_to_in_progress_once() -> None:
    site = vehicles.Site(7, 52.001, 13.001)
    state = VehicleState()
    assert pos(state, 9, 52.0012, 13.0011, [site]) == []  # one position: passing by
    (progress,) = pos(state, 9.05, 52.0011, 13.0010, [site])
    assert isinstance(progress, Progress)
    assert (progress.order_id, progress.actor) == (7, Assignee("vehicle", "v1"))
    assert pos(state, 9.1, 52.0011, 13.0010, [site]) == []


def test_driving_past_is_not_an_arrival() -> None:
    site = vehicles.Site(7, 52.001, 13.001)
    state = VehicleState()
    assert pos(state, 9, 52.0012, 13.0011, [site]) == []
    assert pos(state, 9.05, 52.003, 13.003, [site]) == []
    assert pos(state, 9.1, 52.0012, 13.0011, [site]) == []


def test_no_fix_for_six_readings() -> None:
    state = VehicleState()
    out: list[Any] = []
    for h in range(6):
        out += vehicles.on_reading(state, reading(h, dev=3, battery_v=4.0), "v1", P, health=H,
                                   sites=[])
    assert [a.rule for a in out] == ["vehicles.no_fix"]
    assert kinds(pos(state, 7, *FAR)) == ["Resolve"]


def test_tracker_battery_is_a_vehicle_order() -> None:
    state = VehicleState()
    out = pos(state, 1, *FAR, battery_pct=5.0) + pos(state, 2, *FAR, battery_pct=5.0)
    (opened,) = out
    assert isinstance(opened, Open)
    assert (opened.rule, opened.kind, opened.subject_type, opened.subject_id) == (
        "vehicles.battery", "vehicle", "vehicle", "v1")
