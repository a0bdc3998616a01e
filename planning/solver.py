"""The capacitated vehicle routing problem of a collection day, solved with PyVRP.

Place 0 of the matrix is the depot, place i (1…n) is job i-1. Each vehicle is its own vehicle
type (one available) with its capacity in litres and its shift length; the objective is
metres driven plus a fixed cost per vehicle used. Jobs that must be done are required; the
others (bins collected only because of the forecast) are optional with a prize far above any
detour, so they are left out only when capacity or shift length do not allow them.
PyVRP (MIT, iterated local search) rather than OR-Tools: OR-Tools pins protobuf below the
version chirpstack-api needs, so the two cannot share Bauhof's environment.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.stop import MaxIterations, MultipleCriteria, StoppingCriterion

from planning.distances import Matrix

OPTIONAL_PRIZE_M = 1_000_000
# From this many stops on, the search starts from a nearest-neighbour tour cut into one piece
# per vehicle: PyVRP's own start (a local search from a random solution) takes seconds there.
WARM_START_FROM = 200


class Deadline:
    """A PyVRP stopping criterion on the wall clock, counting from its creation (so the
    initial solution's search is inside the limit, unlike MaxRuntime)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.at = clock() + seconds

    def __call__(self, best_cost: float) -> bool:
        """True once the time is up."""
        return self.clock() >= self.at


@dataclass(frozen=True, slots=True)
class Job:
    """A stop to make: its load (litres), service time and whether it is required."""

    id: str
    load_l: float
    service_s: int
    required: bool = True


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle: capacity in litres and shift length in seconds."""

    id: str
    capacity_l: float
    shift_s: int
    # A limit on the number of bins (a truck that lifts only so many), when it has one.
    max_bins: int | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """One vehicle's tour: job indices in order, seconds from departure to each stop."""

    vehicle_id: str
    jobs: tuple[int, ...]
    arrivals_s: tuple[int, ...]
    distance_m: int
    duration_s: int
    load_l: float


@dataclass(frozen=True, slots=True)
class Solution:
    """The routes, the jobs left out, and how the solver got there."""

    routes: tuple[Route, ...]
    unplanned: tuple[int, ...]
    distance_m: int
    duration_s: int
    feasible: bool
    runtime_s: float
    iterations: int


def problem(matrix: Matrix, jobs: list[Job], vehicles: list[Vehicle],
            vehicle_cost_m: float) -> pyvrp.ProblemData:
    """The PyVRP problem data."""
    n = len(jobs) + 1
    if matrix.distances_m.shape != (n, n):
        raise ValueError(f"matrix is {matrix.distances_m.shape}, expected {(n, n)}")
    locations = [pyvrp.Location(0, 0, name="depot")] + [
        pyvrp.Location(0, 0, name=j.id) for j in jobs]
    # Load dimensions: litres, and the number of bins when a vehicle limits it.
    by_bins = any(v.max_bins is not None for v in vehicles)

    def pickup(job: Job) -> list[int]:
        return [math.ceil(job.load_l), 1] if by_bins else [math.ceil(job.load_l)]

    def capacity(v: Vehicle) -> list[int]:
        litres = math.floor(v.capacity_l)
        return [litres, v.max_bins if v.max_bins is not None else len(jobs)] if by_bins \
            else [litres]

    clients = [pyvrp.Client(i + 1, pickup=pickup(j), service_duration=j.service_s,
                            required=j.required, prize=0 if j.required else OPTIONAL_PRIZE_M,
                            name=j.id) for i, j in enumerate(jobs)]
    types = [pyvrp.VehicleType(1, capacity=capacity(v), start_depot=0,
                               end_depot=0, fixed_cost=round(vehicle_cost_m),
                               shift_duration=v.shift_s, name=v.id) for v in vehicles]
    # PyVRP's stubs type matrices as ndarray[int]; the arrays are int64 as it needs.
    distances: Any = np.ascontiguousarray(matrix.distances_m, dtype=np.int64)
    durations: Any = np.ascontiguousarray(matrix.durations_s, dtype=np.int64)
    return pyvrp.ProblemData(locations, clients, [pyvrp.Depot(0, name="depot")], types,
                             [distances], [durations])


def warm_start(data: pyvrp.ProblemData, matrix: Matrix, jobs: list[Job],
               vehicles: list[Vehicle]) -> pyvrp.Solution:
    """A nearest-neighbour tour from the depot, cut into pieces of about equal load."""
    distances = matrix.distances_m
    left = np.ones(len(jobs) + 1, dtype=bool)
    left[0] = False
    order, here = [], 0
    for _ in jobs:
        nearest = int(np.where(left, distances[here], np.iinfo(np.int64).max).argmin())
        order.append(nearest - 1)
        left[nearest] = False
        here = nearest
    share = sum(j.load_l for j in jobs) / len(vehicles)
    pieces: list[list[int]] = [[] for _ in vehicles]
    piece, load = 0, 0.0
    for job in order:
        if load + jobs[job].load_l > share and piece < len(vehicles) - 1 and pieces[piece]:
            piece, load = piece + 1, 0.0
        pieces[piece].append(job)
        load += jobs[job].load_l
    return pyvrp.Solution(data, [pyvrp.Route(data, p, v) for v, p in enumerate(pieces) if p])


def solve(matrix: Matrix, jobs: list[Job], vehicles: list[Vehicle], *,
          vehicle_cost_m: float = 0.0, time_limit_s: float = 5.0, seed: int = 1,
          max_iterations: int | None = None) -> Solution:
    """Solve within the time limit (wall clock, first iteration included; and the iteration
    cap, when given)."""
    if not jobs or not vehicles:
        return Solution((), tuple(range(len(jobs))), 0, 0, not any(j.required for j in jobs),
                        0.0, 0)
    stop: StoppingCriterion = Deadline(time_limit_s)
    data = problem(matrix, jobs, vehicles, vehicle_cost_m)
    if max_iterations is not None:
        stop = MultipleCriteria([stop, MaxIterations(max_iterations)])
    start = warm_start(data, matrix, jobs, vehicles) if len(jobs) >= WARM_START_FROM else None
    result = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, display=False,
                         initial_solution=start)
    best = result.best
    routes = []
    planned: set[int] = set()
    for route in best.routes():
        order, arrivals = [], []
        for activity in route.schedule():
            if activity.is_client():
                order.append(int(activity.idx))
                arrivals.append(int(activity.start_time) - int(route.start_time()))
        planned.update(order)
        routes.append(Route(vehicles[route.vehicle_type()].id, tuple(order), tuple(arrivals),
                            int(route.distance()), int(route.duration()),
                            float(sum(jobs[i].load_l for i in order))))
    routes.sort(key=lambda r: [v.id for v in vehicles].index(r.vehicle_id))
    unplanned = tuple(i for i in range(len(jobs)) if i not in planned)
    return Solution(tuple(routes), unplanned, int(best.distance()),
                    int(best.duration()), bool(best.is_feasible()), float(result.runtime),
                    int(result.num_iterations))
