"""The planner: forecast, select and route one collection day into a Plan (not stored;
planning/plans.py stores it and turns its routes into work orders)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from bauhof import geo
from planning import NoVehicles, distances, selection, solver
from planning import bins as bins_mod
from planning.forecast import Forecast
from planning.settings import PlannerSettings
from rules.assets import Bin


@dataclass(frozen=True, slots=True)
class Stop:
    """One stop of a route, in driving order."""

    seq: int
    bin_id: str
    reason: str
    latitude: float
    longitude: float
    eta: datetime
    fill_now_pct: float
    expected_fill_pct: float
    load_l: float


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    """A vehicle's tour with its stops."""

    route_no: int
    vehicle_id: str
    stops: tuple[Stop, ...]
    distance_m: float
    duration_s: float
    load_l: float
    capacity_l: float
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """A planned (or previewed) collection day."""

    kind: str
    plan_date: date
    settings_version: int | None
    settings: PlannerSettings
    as_of: datetime
    starts_at: datetime
    selected: tuple[selection.Selected, ...]
    routes: tuple[PlannedRoute, ...]
    unplanned: tuple[str, ...]
    distance_m: float
    duration_s: float
    feasible: bool
    solver: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description (what the API and the CLI print)."""
        return {
            "id": self.id, "kind": self.kind, "plan_date": self.plan_date.isoformat(),
            "settings_version": self.settings_version,
            "threshold_pct": self.settings.fill_threshold_pct,
            "horizon_h": self.settings.horizon_h, "as_of": self.as_of.isoformat(),
            "starts_at": self.starts_at.isoformat(), "bins_selected": len(self.selected),
            "bins_planned": sum(len(r.stops) for r in self.routes),
            "unplanned": list(self.unplanned), "km": round(self.distance_m / 1000, 2),
            "duration_h": round(self.duration_s / 3600, 2), "feasible": self.feasible,
            "solver": self.solver,
            "routes": [{"route_no": r.route_no, "vehicle_id": r.vehicle_id,
                        "order_id": r.order_id, "stops": len(r.stops),
                        "km": round(r.distance_m / 1000, 2),
                        "duration_h": round(r.duration_s / 3600, 2),
                        "load_l": round(r.load_l, 1), "capacity_l": r.capacity_l,
                        "bins": [s.bin_id for s in r.stops]} for r in self.routes]}


def vehicles(conn: psycopg.Connection[Any], settings: PlannerSettings) -> list[solver.Vehicle]:
    """The vehicles the planner may use, with capacity and shift; NoVehicles if none."""
    rows = conn.execute("SELECT id, kind, capacity_l FROM vehicles ORDER BY id").fetchall()
    known = {str(r[0]): (str(r[1]), r[2]) for r in rows}
    shift = round(settings.shift_h * 3600)
    out = []
    if settings.vehicles:
        for v in settings.vehicles:
            capacity = v.capacity_l or (known.get(v.id, ("", None))[1])
            if capacity:
                out.append(solver.Vehicle(v.id, float(capacity),
                                          round((v.shift_h or settings.shift_h) * 3600),
                                          v.capacity_bins))
    else:
        out = [solver.Vehicle(vid, float(cap), shift) for vid, (kind, cap) in known.items()
               if kind == "truck" and cap]
    if not out:
        raise NoVehicles()
    return out


def depot_of(settings: PlannerSettings, bins: dict[str, Bin]) -> geo.Place:
    """The depot, or the centre of the bins when the settings give none."""
    if settings.depot is not None:
        return settings.depot.latitude, settings.depot.longitude
    if not bins:
        return 0.0, 0.0
    return (sum(b.latitude for b in bins.values()) / len(bins),
            sum(b.longitude for b in bins.values()) / len(bins))


def compute(conn: psycopg.Connection[Any], day: date, settings: PlannerSettings, *,
            kind: str = "plan", version: int | None = None, as_of: datetime | None = None,
            forecasts: dict[str, Forecast] | None = None) -> Plan:
    """Forecast, select and route a day (nothing is stored)."""
    all_bins = bins_mod.load(conn)
    as_of = as_of or bins_mod.latest_reading(conn) or selection.shift_start(day, settings)
    if forecasts is None:
        forecasts = bins_mod.forecasts(conn, as_of, settings.threshold_for(None), all_bins)
    sched = selection.schedule(day, settings)
    chosen = selection.select(forecasts, all_bins, sched, settings)
    fleet = vehicles(conn, settings)
    depot = depot_of(settings, all_bins)
    places = [depot] + [(all_bins[s.bin_id].latitude, all_bins[s.bin_id].longitude)
                        for s in chosen]
    matrix = distances.matrix(places, road_factor=settings.road_factor,
                              speed_kmh=settings.speed_kmh, osrm_url=settings.osrm_url)
    jobs = [solver.Job(s.bin_id, s.load_l, round(settings.service_s),
                       required=s.reason != "forecast") for s in chosen]
    limit = settings.time_limit_s if kind == "plan" else settings.preview_time_limit_s
    solution = solver.solve(matrix, jobs, fleet, vehicle_cost_m=settings.vehicle_cost_m,
                            time_limit_s=limit, seed=settings.seed)
    capacity = {v.id: v.capacity_l for v in fleet}
    routes = []
    for number, route in enumerate(solution.routes, start=1):
        stops = []
        for seq, (job, offset) in enumerate(zip(route.jobs, route.arrivals_s, strict=True), 1):
            s = chosen[job]
            b = all_bins[s.bin_id]
            eta = sched.starts_at + timedelta(seconds=offset)
            f = forecasts.get(s.bin_id)
            expected = round(f.fill_at(eta), 2) if f else s.expected_fill_pct
            stops.append(Stop(seq, s.bin_id, s.reason, b.latitude, b.longitude, eta,
                              s.fill_now_pct, expected, s.load_l))
        routes.append(PlannedRoute(number, route.vehicle_id, tuple(stops), route.distance_m,
                                   route.duration_s, route.load_l, capacity[route.vehicle_id]))
    return Plan(kind, day, version, settings, as_of, sched.starts_at, tuple(chosen),
                tuple(routes), tuple(chosen[i].bin_id for i in solution.unplanned),
                solution.distance_m, solution.duration_s, solution.feasible,
                {"engine": "pyvrp", "runtime_s": round(solution.runtime_s, 3),
                 "iterations": solution.iterations, "matrix": matrix.source})
