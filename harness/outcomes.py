"""`bauhof bench outcomes`: the default town for 28 simulated days under three policies
(see harness/policies.py), with the figures from the simulator's ground truth.

The default town's own climate (June rain every other day or so) keeps its green areas well
above the wilting point even when nobody waters, which would make the dry-hours comparison
empty. The bench therefore runs, by default, four weeks of a summer heat wave in the default
town: daily means `HEAT_WAVE_WARMER_C` above the town's climate (about 24 °C in late July,
afternoons near 30 °C) and showers starting a fifth as often (`HEAT_WAVE_RAIN_START` per dry
hour instead of 0.025, about one short shower a week), from Monday 6 July 2026. Bins do not
depend on the weather, so the collection figures are the same as in the scenario's climate;
`--weather scenario --start 2026-06-01` runs the scenario as it is.

`--weather dry-summer` is a dry summer with rain as the German Weather Service records it in
one: daily means `DRY_SUMMER_WARMER_C` above the town's climate (about 21 °C in July, as in
Germany's July 2018) and showers starting with probability `DRY_SUMMER_RAIN_START` per dry
hour, lasting 3.3 hours on average at 1.5 mm/h: about 8 showers and 40 mm in four weeks,
half of a German July's 1961-1990 mean of about 78 mm, as DWD reported for July 2018. It is
the scenario of the watering figures (`watering_trips`, `water_l`, `dry_hours`) against
`fixed_watering`, the weekly rota of towns without sensors.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bauhof.cli import argument_type, bench_command, number_between
from harness.policies import POLICIES

if TYPE_CHECKING:
    from simulator.scenario import Scenario

WEATHERS = ("heat-wave", "scenario", "dry-summer")
HEAT_WAVE_START = date(2026, 7, 6)
HEAT_WAVE_WARMER_C = 6.0
HEAT_WAVE_RAIN_START = 0.005
DRY_SUMMER_WARMER_C = 2.5
DRY_SUMMER_RAIN_START = 0.012
DRY_SUMMER_RAIN_CONTINUE = 0.7
DRY_SUMMER_RAIN_MM_H = 1.5
_days = number_between(0, 366, "days", low_included=False)


def register(bench: Any) -> None:
    """Add `bench outcomes`."""
    parser = bench_command(bench, "outcomes", cmd_outcomes,
                           help="simulated days: fixed schedule vs Bauhof's plans vs no system "
                                "vs a fixed watering rota")
    parser.add_argument("--days", type=_days, default=28.0, help="simulated days (default 28)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=_start, default=HEAT_WAVE_START,
                        help=f"first simulated day, UTC (default {HEAT_WAVE_START})")
    parser.add_argument("--weather", choices=WEATHERS, default="heat-wave",
                        help="heat-wave: the default town in a hot, nearly rainless summer "
                             "(default); scenario: the town's own climate; dry-summer: a dry "
                             "summer with DWD-like rain (the watering figures)")
    parser.add_argument("--policies", default=",".join(POLICIES),
                        help=f"comma-separated subset of {','.join(POLICIES)}")



_start = argument_type(date.fromisoformat, "a date (YYYY-MM-DD)")


def bench_town(weather: str = "heat-wave", start: date = HEAT_WAVE_START) -> Scenario:
    """The default town from midnight UTC of `start`, in a heat wave or its own climate."""
    from simulator import scenario

    town = scenario.load("herrenberg")
    update: dict[str, Any] = {"simulation": town.simulation.model_copy(update={
        "start": datetime(start.year, start.month, start.day, tzinfo=UTC)})}
    if weather == "heat-wave":
        update["weather"] = town.weather.model_copy(update={
            "mean_temperature_c": town.weather.mean_temperature_c + HEAT_WAVE_WARMER_C,
            "rain_start_probability": HEAT_WAVE_RAIN_START})
    elif weather == "dry-summer":
        update["weather"] = town.weather.model_copy(update={
            "mean_temperature_c": town.weather.mean_temperature_c + DRY_SUMMER_WARMER_C,
            "rain_start_probability": DRY_SUMMER_RAIN_START,
            "rain_continue_probability": DRY_SUMMER_RAIN_CONTINUE,
            "rain_mean_mm_h": DRY_SUMMER_RAIN_MM_H})
    return town.model_copy(update=update)


def run(policy: str, days: float, seed: int, database_url: str | None,
        town: Scenario | None = None) -> dict[str, Any]:
    """One policy's figures (a database URL for the policies with Bauhof's rules); the
    bench's heat-wave town unless another is given."""
    from harness import policies
    from simulator.clock import DAY_US, to_us
    from simulator.engine import Simulator
    from simulator.soil import PLANTS

    town = town or bench_town()
    start_us = to_us(town.simulation.start)
    end_us = start_us + round(days * DAY_US)
    recorder, tally = policies.Recorder(), policies.Tally()
    trucks = sorted(v.id for v in town.vehicles if v.kind == "truck")
    sponsored = [(a.id, PLANTS[a.plant_type].wilting_point_pct) for a in town.green_areas
                 if a.sponsor]
    if database_url is None:
        engine = Simulator(town, seed=seed, start_us=start_us, end_us=end_us, truth=recorder)
        sizes = {a.id: engine.world.area_m2(a.id) or 0.0 for a in town.green_areas}
        policies.hook_days(engine.world, tally, trucks, None, end_us)
        count = policies.dry_hour_counter(engine.world, tally, sponsored)
        rota = (policies.watering_rota(engine.world, [a for a, _ in sponsored])
                if policy == "fixed_watering" else None)
        for message in engine.messages():
            if message.topic.startswith("bauhof/weather/"):
                if rota is not None:
                    rota(message.time_us)
                count(message.time_us)
        return policies.outcome(recorder, tally, end_us, sizes)
    from harness.loop import Loop

    with Loop(database_url, town, seed=seed, start_us=start_us, end_us=end_us,
              truth=recorder) as loop:
        planner = loop.planner(tally) if policy == "bauhof" else None
        policies.hook_days(loop.engine.world, tally, trucks, planner, end_us)
        loop.run(policies.dry_hour_counter(loop.engine.world, tally, sponsored))
        sizes = {a.id: loop.engine.world.area_m2(a.id) or 0.0 for a in town.green_areas}
    return policies.outcome(recorder, tally, end_us, sizes)


def cmd_outcomes(args: argparse.Namespace) -> int:
    """Run the default town (by default in a summer heat wave, see --weather) for --days
    simulated days with a fixed weekly schedule, with Bauhof's plans, and with no system (each
    in private services), and print from the simulator's ground truth: truck km, bins emptied,
    average fill at emptying, overflow hours, dry hours in sponsored areas, watering trips and
    litres of water; fixed_watering waters every sponsored area weekly on a fixed rota, as towns
    do without sensors."""
    from bauhof.services import PrivateStack

    chosen = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in POLICIES]
    if unknown or not chosen:
        print(f"bauhof bench outcomes: error: unknown policy {', '.join(unknown) or '(none)'} "
              f"(choose from {', '.join(POLICIES)})", file=sys.stderr)
        return 2
    town = bench_town(args.weather, args.start)
    figures: dict[str, Any] = {}
    for policy in chosen:
        started = time.perf_counter()
        if policy in ("no_system", "fixed_watering"):
            figures[policy] = run(policy, args.days, args.seed, None, town)
        else:
            with PrivateStack(fsync=False) as stack:
                figures[policy] = run(policy, args.days, args.seed, stack.database_url, town)
        print(f"{policy}: {args.days:g} simulated days in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps(figures))
        return 0
    keys = ("km", "bins_emptied", "avg_fill_at_emptying", "overflow_hours", "dry_hours",
            "watering_trips", "water_l")
    print(f"{'':22}" + "".join(f"{p:>12}" for p in figures))
    for key in keys:
        print(f"{key:22}" + "".join(f"{figures[p][key]:>12}" for p in figures))
    return 0
