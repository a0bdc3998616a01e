"""Vehicles driving their day's route: legs between stops at town speeds, dwelling at stops.

A day plan is a chain of legs from the depot through the stops and back. Travel time of a leg
is its straight-line length x 1.3 (streets are not straight) / v, with v drawn per leg from
18-32 km/h; at each stop the vehicle dwells 40-90 s (a bin is emptied halfway through).
Waste trucks visit the bins whose collection weekday is today, ordered nearest-neighbour
from the depot; other vehicles loop their `town.routes` waypoints until the end of the shift.
Between legs and outside shifts the vehicle stands still. Position at time t is linear
interpolation along the current leg.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field

from bauhof.geo import Place, flat_distance_m, interpolate
from simulator.clock import US

DETOUR = 1.3
SPEED_KMH = (18.0, 32.0)
DWELL_S = (40.0, 90.0)
SHIFT_START_H = {"truck": 6.5, "van": 7.0, "sweeper": 7.0, "car": 7.5}
SHIFT_END_H = 15.5


@dataclass(frozen=True, slots=True)
class Leg:
    """Travel from `origin` to `target` between two virtual times (a stop when they are equal)."""

    start_us: int
    end_us: int
    origin: Place
    target: Place


@dataclass(frozen=True, slots=True)
class Visit:
    """Work done at a stop: `stop` (e.g. a bin id) at `time_us`."""

    time_us: int
    stop: str


@dataclass
class DayPlan:
    """Where a vehicle is during one day."""

    home: Place
    legs: list[Leg] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._starts = [leg.start_us for leg in self.legs]

    def position(self, t_us: int) -> tuple[Place, bool]:
        """(latitude, longitude) at `t_us` and whether the vehicle is moving."""
        index = bisect.bisect_right(self._starts, t_us) - 1
        if index < 0:
            return (self.home if not self.legs else self.legs[0].origin), False
        leg = self.legs[index]
        if t_us >= leg.end_us:
            return leg.target, False
        if leg.origin == leg.target:
            return leg.origin, False
        fraction = (t_us - leg.start_us) / (leg.end_us - leg.start_us)
        return interpolate(leg.origin, leg.target, fraction), True

    def on_shift(self, t_us: int) -> bool:
        """Whether `t_us` lies between the first departure and the return to the depot."""
        return bool(self.legs) and self.legs[0].start_us <= t_us < self.legs[-1].end_us


def nearest_neighbour(start: Place, stops: list[tuple[str, Place]]) -> list[tuple[str, Place]]:
    """Order stops greedily: always drive to the closest one not yet visited."""
    left = list(stops)
    ordered = []
    here = start
    while left:
        best = min(range(len(left)), key=lambda i: flat_distance_m(*here, *left[i][1]))
        here = left[best][1]
        ordered.append(left.pop(best))
    return ordered


class _Builder:
    def __init__(self, start_us: int, home: Place, rng: random.Random) -> None:
        self.t_us = start_us
        self.here = home
        self.rng = rng
        self.legs: list[Leg] = []
        self.visits: list[Visit] = []

    def drive(self, target: Place) -> None:
        metres = flat_distance_m(*self.here, *target) * DETOUR
        speed = self.rng.uniform(*SPEED_KMH) / 3.6
        end = self.t_us + max(1, round(metres / speed * US))
        self.legs.append(Leg(self.t_us, end, self.here, target))
        self.t_us, self.here = end, target

    def dwell(self, stop: str) -> None:
        seconds = self.rng.uniform(*DWELL_S)
        end = self.t_us + round(seconds * US)
        self.visits.append(Visit(self.t_us + round(seconds / 2 * US), stop))
        self.legs.append(Leg(self.t_us, end, self.here, self.here))
        self.t_us = end


def collection_plan(
    start_us: int, depot: Place, stops: list[tuple[str, Place]], rng: random.Random
) -> DayPlan:
    """A waste truck's day: depot → every stop (nearest first, dwelling) → depot."""
    build = _Builder(start_us, depot, rng)
    for stop, place in nearest_neighbour(depot, stops):
        build.drive(place)
        build.dwell(stop)
    if stops:
        build.drive(depot)
    return DayPlan(depot, build.legs, build.visits)


def loop_plan(
    start_us: int, end_us: int, depot: Place, waypoints: list[Place], rng: random.Random
) -> DayPlan:
    """A patrol: loop the waypoints (dwelling at each) until `end_us`, then back to the depot."""
    build = _Builder(start_us, depot, rng)
    while waypoints and build.t_us < end_us:
        for index, place in enumerate(waypoints):
            build.drive(place)
            build.dwell(f"waypoint-{index}")
            if build.t_us >= end_us:
                break
    if waypoints:
        build.drive(depot)
    return DayPlan(depot, build.legs, build.visits)
