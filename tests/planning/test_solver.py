"""The routing solver on small instances whose optimum is known."""

from __future__ import annotations

import numpy as np

from planning import distances, solver


def line_matrix(positions_m: list[int], speed_m_s: int = 10) -> distances.Matrix:
    """Places on a straight road: metres apart by position, driven at speed_m_s."""
    pos = np.asarray(positions_m, dtype=np.int64)
    metres = np.abs(np.subtract.outer(pos, pos))
    return distances.Matrix(metres, metres // speed_m_s, "line")


def test_two_vehicles_split_the_line_at_the_depot() -> None:
    # Depot at 0, bins at +-1, +-2, +-3 km; each vehicle carries three bins, so the optimum
    # is one vehicle per side: 2 x 6 km.
    matrix = line_matrix([0, 1000, 2000, 3000, -1000, -2000, -3000])
    jobs = [solver.Job(f"b{i}", 100.0, 60) for i in range(6)]
    fleet = [solver.Vehicle("v1", 300, 8 * 3600), solver.Vehicle("v2", 300, 8 * 3600)]
    result = solver.solve(matrix, jobs, fleet, time_limit_s=0.5)
    assert (result.distance_m, result.feasible, result.unplanned) == (12000, True, ())
    assert sorted(sorted(r.jobs) for r in result.routes) == [[0, 1, 2], [3, 4, 5]]
    for route in result.routes:
        assert (route.distance_m, route.load_l, route.duration_s) == (6000, 300.0, 780)
        assert route.arrivals_s == arrivals(matrix, route.jobs, 60)


def arrivals(matrix: distances.Matrix, jobs: tuple[int, ...], service_s: int) -> (
    tuple[int, ...]
):
    """Seconds from departure to each stop, driving the matrix and serving each stop."""
    out, t, here = [], 0, 0
    for job in jobs:
        t += int(matrix.durations_s[here, job + 1])
        out.append(t)
        t += service_s
        here = job + 1
    return tuple(out)


def test_optional_bin_is_left_out_when_it_does_not_fit() -> None:
    matrix = line_matrix([0, 1000, 2000, -1000])
    jobs = [solver.Job("a", 100.0, 60), solver.Job("b", 100.0, 60),
            solver.Job("c", 100.0, 60, required=False)]
    result = solver.solve(matrix, jobs, [solver.Vehicle("v1", 200, 8 * 3600)],
                          time_limit_s=0.3)
    assert (result.unplanned, result.distance_m, result.feasible) == ((2,), 4000, True)
    assert result.routes[0].jobs == (0, 1)


def test_one_vehicle_when_a_vehicle_costs_more_than_the_detour() -> None:
    matrix = line_matrix([0, 1000, -1000])
    jobs = [solver.Job("a", 10.0, 0), solver.Job("b", 10.0, 0)]
    fleet = [solver.Vehicle("v1", 100, 3600), solver.Vehicle("v2", 100, 3600)]
    result = solver.solve(matrix, jobs, fleet, vehicle_cost_m=500, time_limit_s=0.3)
    assert (len(result.routes), result.distance_m) == (1, 4000)


def test_nothing_to_collect() -> None:
    result = solver.solve(line_matrix([0]), [], [solver.Vehicle("v1", 100, 3600)])
    assert (result.routes, result.distance_m, result.feasible) == ((), 0, True)


def test_capacity_in_bins() -> None:
    # Plenty of litres, but a truck that lifts two bins: the line splits at the depot.
    matrix = line_matrix([0, 1000, 2000, -1000, -2000])
    jobs = [solver.Job(f"b{i}", 10.0, 0) for i in range(4)]
    fleet = [solver.Vehicle("v1", 10_000, 3600, max_bins=2),
             solver.Vehicle("v2", 10_000, 3600, max_bins=2)]
    result = solver.solve(matrix, jobs, fleet, time_limit_s=0.3)
    assert (result.distance_m, result.feasible) == (8000, True)
    assert sorted(len(r.jobs) for r in result.routes) == [2, 2]
