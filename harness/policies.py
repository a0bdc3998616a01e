"""One simulated run of the default town under a collection policy, measured on the
simulator's ground truth.

- `no_system`: the trucks empty every bin on its weekday; nobody waters (no sensors, no rules).
- `fixed`: the same weekly rounds; Bauhof's rules raise watering and maintenance orders and
  the simulated crews (and sponsors) work them off.
- `bauhof`: as `fixed`, but each working day the trucks drive Bauhof's plan for that day,
  made at local midnight from the readings stored so far.
- `fixed_watering`: what towns do without sensors: the weekly rounds, and a crew waters
  every sponsored area once a week on a fixed rota (`ROTA_MM`, eight areas a working day,
  one an hour from 8:00) whatever the weather; no sensors, no rules, no sponsors asked.

Everything goes through Bauhof as in production: the simulator's ChirpStack events are stored
by ingest's Preparer and Writer, the rules engine runs on them, the crews read the orders from
the database. The bins rule is switched off in the policies with crews, so that bins are
emptied by the trucks only (not one by one from a van).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bauhof.geo import flat_distance_m
from simulator.clock import US, from_us
from simulator.truth import Truth
from simulator.vehicles import DETOUR, DWELL_S, SPEED_KMH, DayPlan, Leg, Visit

POLICIES = ("fixed", "bauhof", "no_system", "fixed_watering")
# The rota's watering: as much as a simulated crew gives when no order says how much.
ROTA_MM = 20.0
ROTA_FIRST_HOUR = 8
ROTA_PER_DAY = 8


class Recorder(Truth):
    """Ground truth kept in memory: emptyings, overflows, watering."""

    def __init__(self) -> None:
        super().__init__(None)
        self.emptied: list[tuple[int, str, float]] = []
        self.overflows: list[tuple[int, str]] = []
        self.watered: list[tuple[int, str, str, float]] = []

    def write(self, t_us: int, kind: str, **fields: Any) -> None:
        """Count the event and keep the ones the outcome needs."""
        super().write(t_us, kind, **fields)
        if kind == "emptied":
            self.emptied.append((t_us, str(fields["bin"]), float(fields["fill_before_pct"])))
        elif kind == "overflow":
            self.overflows.append((t_us, str(fields["bin"])))
        elif kind == "watered":
            self.watered.append((t_us, str(fields["green_area"]), str(fields["by"]),
                                 float(fields["mm"])))


@dataclass
class Tally:
    """What the run measured besides the ground-truth events."""

    truck_m: float = 0.0
    dry_hours: int = 0
    plans: list[dict[str, Any]] = field(default_factory=list)


def drive(start_us: int, depot: tuple[float, float], stops: list[tuple[str, tuple[float, float]]],
          rng: random.Random) -> tuple[DayPlan, float]:
    """A truck's day through the stops in the given order (as the simulator drives: straight
    line x 1.3 at 18-32 km/h, 40-90 s at each stop); the plan and metres driven."""
    legs: list[Leg] = []
    visits: list[Visit] = []
    t, here, metres = start_us, depot, 0.0
    for stop, place in [*stops, ("", depot)]:
        leg_m = flat_distance_m(*here, *place) * DETOUR
        end = t + max(1, round(leg_m / (rng.uniform(*SPEED_KMH) / 3.6) * US))
        legs.append(Leg(t, end, here, place))
        t, here, metres = end, place, metres + leg_m
        if stop:
            dwell = rng.uniform(*DWELL_S)
            visits.append(Visit(t + round(dwell / 2 * US), stop))
            legs.append(Leg(t, t + round(dwell * US), here, here))
            t += round(dwell * US)
    return DayPlan(depot, legs, visits), metres


def plan_metres(plan: DayPlan, end_us: int) -> float:
    """Metres a day plan drives before end_us."""
    return sum(flat_distance_m(*leg.origin, *leg.target) * DETOUR for leg in plan.legs
               if leg.start_us < end_us)


def hook_days(world: Any, tally: Tally, trucks: list[str],
              planner: Callable[[int], dict[str, list[str]]] | None, end_us: int) -> None:
    """Wrap the world's day planning: count truck metres; with a planner, trucks drive its
    routes (vehicle id → ordered bin ids) instead of the weekly rounds."""
    original = world.plan_day
    rng = random.Random("bench:trucks")

    def plan_day(day_us: int) -> list[tuple[Visit, str]]:
        emptying: list[tuple[Visit, str]] = original(day_us)
        if planner is not None:
            emptying = [(v, vehicle) for v, vehicle in emptying if vehicle not in trucks]
            weekday, _ = world.town_time.weekday_hour(day_us + 12 * 3600 * US)
            routes = planner(day_us) if weekday < 5 else {}
            for truck in trucks:
                stops = [(b, (world.bin_config[b].latitude, world.bin_config[b].longitude))
                         for b in routes.get(truck, [])]
                start = world.town_time.at_local(day_us, 6.5)
                plan, _ = drive(start, world.depot, stops, rng) if stops else (
                    DayPlan(world.depot), 0.0)
                world.plans[truck] = plan
                emptying += [(visit, truck) for visit in plan.visits]
        for truck in trucks:
            tally.truck_m += plan_metres(world.plans[truck], end_us)
        return emptying

    world.plan_day = plan_day


def dry_hour_counter(world: Any, tally: Tally, areas: list[tuple[str, float]]) -> (
    Callable[[int], None]
):
    """A function to call every hour: counts sponsored areas below their wilting point."""
    def count(t_us: int) -> None:
        for area_id, wilting in areas:
            if world.soil(area_id, t_us).moisture_pct < wilting:
                tally.dry_hours += 1
    return count


def watering_rota(world: Any, areas: list[str]) -> Callable[[int], None]:
    """A function to call every hour: the fixed weekly rota waters area i on working day
    (i // ROTA_PER_DAY) % 5 at ROTA_FIRST_HOUR + i % ROTA_PER_DAY local time."""
    slots = {((i // ROTA_PER_DAY) % 5, ROTA_FIRST_HOUR + i % ROTA_PER_DAY): area
             for i, area in enumerate(areas)}

    def water(t_us: int) -> None:
        area = slots.get(world.town_time.weekday_hour(t_us))
        if area is not None:
            world.water(area, ROTA_MM, t_us, by="crew-rota")
    return water


def outcome(recorder: Recorder, tally: Tally, end_us: int,
            sizes: dict[str, float] | None = None) -> dict[str, Any]:
    """The figures of one run; `sizes` (area id → m²) for the litres watered."""
    overflow_s = 0.0
    open_since: dict[str, int] = {}
    events = sorted([(t, "o", b) for t, b in recorder.overflows]
                    + [(t, "e", b) for t, b, _ in recorder.emptied])
    for t, kind, bin_id in events:
        if kind == "o":
            open_since.setdefault(bin_id, t)
        elif bin_id in open_since:
            overflow_s += (t - open_since.pop(bin_id)) / US
    overflow_s += sum((end_us - t) / US for t in open_since.values())
    fills = [f for _, _, f in recorder.emptied]
    return {
        "km": round(tally.truck_m / 1000, 1),
        "bins_emptied": len(fills),
        "avg_fill_at_emptying": round(sum(fills) / len(fills), 1) if fills else 0.0,
        "overflow_hours": round(overflow_s / 3600, 1),
        "dry_hours": tally.dry_hours,
        # Every watering, by crews and by sponsors (each is a trip with water).
        "watering_trips": len(recorder.watered),
        "water_l": round(sum(mm * (sizes or {}).get(area, 0.0)
                             for _, area, _, mm in recorder.watered)),
    }


def at(t_us: int) -> datetime:
    """The simulated time as an aware datetime."""
    return from_us(t_us)
