"""Vehicles drive their plans at town speeds and stand still at stops."""

from __future__ import annotations

import random

import pytest

from bauhof.geo import flat_distance_m
from simulator.clock import US
from simulator.vehicles import DETOUR, collection_plan, loop_plan, nearest_neighbour

DEPOT = (48.6031, 8.8562)
STOPS = [("bin-3", (48.5960, 8.8800)), ("bin-1", (48.6020, 8.8580)),
         ("bin-2", (48.5990, 8.8650))]
T0 = 1_780_300_000 * US


def test_nearest_neighbour_visits_the_closest_stop_first() -> None:
    assert [s for s, _ in nearest_neighbour(DEPOT, STOPS)] == ["bin-1", "bin-2", "bin-3"]


def test_a_collection_round_visits_every_stop_and_returns() -> None:
    plan = collection_plan(T0, DEPOT, STOPS, random.Random(1))
    assert [v.stop for v in plan.visits] == ["bin-1", "bin-2", "bin-3"]
    assert plan.legs[0].origin == DEPOT
    assert plan.legs[-1].target == DEPOT
    assert all(a.end_us == b.start_us for a, b in zip(plan.legs, plan.legs[1:], strict=False))
    for leg in plan.legs:
        seconds = (leg.end_us - leg.start_us) / US
        metres = flat_distance_m(*leg.origin, *leg.target) * DETOUR
        if leg.origin == leg.target:
            assert 40 <= seconds <= 90
        else:
            assert 18 / 3.6 <= metres / seconds <= 32 / 3.6 + 1e-6


def test_position_is_interpolated_while_driving_and_fixed_at_stops() -> None:
    plan = collection_plan(T0, DEPOT, STOPS, random.Random(1))
    first = plan.legs[0]
    middle = (first.start_us + first.end_us) // 2
    place, moving = plan.position(middle)
    assert moving
    assert place == pytest.approx(((DEPOT[0] + 48.6020) / 2, (DEPOT[1] + 8.8580) / 2), abs=1e-6)
    stop = plan.legs[1]
    assert plan.position(stop.start_us + 1) == ((48.6020, 8.8580), False)
    assert plan.position(T0 - 1) == (DEPOT, False)
    assert plan.position(plan.legs[-1].end_us + 3600 * US) == (DEPOT, False)
    assert plan.on_shift(middle)
    assert not plan.on_shift(plan.legs[-1].end_us)


def test_a_patrol_loops_until_the_end_of_the_shift() -> None:
    waypoints = [place for _, place in STOPS]
    end = T0 + 4 * 3600 * US
    plan = loop_plan(T0, end, DEPOT, waypoints, random.Random(2))
    assert len(plan.visits) > 2 * len(waypoints)
    assert plan.legs[-2].end_us >= end
    assert plan.legs[-1].target == DEPOT
