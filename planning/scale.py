"""The scale benchmark: a synthetic town of N bins and V vehicles, planned within the plan's
time limit and compared with a long solver run (the best distance PyVRP finds given time)."""

from __future__ import annotations

import math
import random
import sys
import time
from typing import Any

from bauhof import geo
from planning import distances, solver

CENTRE = (48.5955, 8.8707)
RADIUS_M = 4000.0
SERVICE_S = 45
SHIFT_S = 10 * 3600
COMPACTION = 0.25
VOLUMES = (240, 240, 660, 1100)


def town(bins: int, seed: int = 7) -> tuple[list[geo.Place], list[solver.Job]]:
    """The depot and `bins` bins scattered around the centre, with their loads (litres)."""
    rng = random.Random(seed)
    places = [(CENTRE[0] + 0.01, CENTRE[1] - 0.015)]
    jobs = []
    for index in range(bins):
        r = RADIUS_M * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        places.append(geo.offset(*CENTRE, r * math.sin(angle), r * math.cos(angle)))
        fill = rng.uniform(0.6, 1.0)
        jobs.append(solver.Job(f"bin-{index:05d}", rng.choice(VOLUMES) * fill * COMPACTION,
                               SERVICE_S))
    return places, jobs


def run(bins: int, vehicles: int, limit_s: float, long_s: float, *,
        progress: bool = False) -> dict[str, Any]:
    """Plan, then solve again for long_s; the figures as a dict."""
    started = time.perf_counter()
    places, jobs = town(bins)
    matrix = distances.road(places, 1.3, 25.0)
    load = sum(j.load_l for j in jobs)
    capacity = math.ceil(load / vehicles * 1.15)
    fleet = [solver.Vehicle(f"veh-{i + 1}", capacity, SHIFT_S) for i in range(vehicles)]
    matrix_s = time.perf_counter() - started
    if progress:
        print(f"{bins} bins, {vehicles} vehicles of {capacity} l: solving for {limit_s:g} s",
              file=sys.stderr)
    plan = solver.solve(matrix, jobs, fleet, time_limit_s=limit_s, seed=1)
    plan_s = time.perf_counter() - started
    if progress:
        print(f"plan: {plan.distance_m / 1000:.1f} km in {plan_s:.1f} s; reference run for "
              f"{long_s:g} s", file=sys.stderr)
    best = solver.solve(matrix, jobs, fleet, time_limit_s=long_s, seed=2)
    reference = min(best.distance_m, plan.distance_m) if best.feasible else plan.distance_m
    return {
        "bins": bins, "vehicles": vehicles, "capacity_l": capacity,
        "matrix_s": round(matrix_s, 2), "plan_s": round(plan_s, 2),
        "plan_km": round(plan.distance_m / 1000, 2), "plan_routes": len(plan.routes),
        "plan_feasible": plan.feasible, "plan_iterations": plan.iterations,
        "long_s": round(best.runtime_s, 1), "long_km": round(best.distance_m / 1000, 2),
        "long_feasible": best.feasible,
        "gap_pct": round(100 * (plan.distance_m - reference) / reference, 2) if reference
        else 0.0,
    }
