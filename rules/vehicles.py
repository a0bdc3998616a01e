"""Vehicles: tracker battery and fix, parked outside the depot after hours, arrival at orders.

When a vehicle stops at the location of an open order (for `arrival_readings` positions in
a row within `arrival_radius_m`) the order moves to in progress; the readings that follow
(moisture rises, fill drops) resolve it, so the crew does not have to tap anything.
State per vehicle: `VehicleState`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bauhof.assignee import Assignee
from bauhof.geo import EARTH_RADIUS_M, distance_m
from rules.actions import Action, Open, Progress, Resolve
from rules.readings import Reading, is_newer
from rules.ruleset import HealthParams, VehicleParams
from rules.sensor_health import battery
from rules.state import RuleState

MODULE = "vehicles"
BATTERY, NO_FIX, PARKED = "vehicles.battery", "vehicles.no_fix", "vehicles.parked"


@dataclass(frozen=True, slots=True)
class Site:
    """An open order a vehicle may arrive at."""

    order_id: int
    latitude: float
    longitude: float


@dataclass(slots=True)
class VehicleState(RuleState, module=MODULE, subject_type="vehicle", open_flags={
        BATTERY: "battery_open", NO_FIX: "no_fix_open", PARKED: "parked_open"}):
    """What the vehicle rules remember of one vehicle."""

    last_ts: float | None = None  # the last reading evaluated
    battery_open: bool = False
    battery_low: int = 0
    no_fix: int = 0  # consecutive readings without a position
    no_fix_open: bool = False
    anchor: list[float] | None = None  # [lat, lon, ts] where it last stopped moving
    parked_open: bool = False
    near: dict[str, int] = field(default_factory=dict)  # order id: readings in a row near it
    arrived: list[int] = field(default_factory=list)  # orders it arrived at (the last 50)


def working(at: datetime, p: VehicleParams) -> bool:
    """Whether `at` falls in working hours on a working day, in the depot's time zone."""
    local = at.astimezone(ZoneInfo(p.timezone))
    start, end = (time.fromisoformat(x) for x in p.working_hours)
    return local.weekday() in p.working_days and start <= local.time() < end


def on_reading(state: VehicleState, r: Reading, vehicle_id: str, p: VehicleParams, *,
               health: HealthParams, sites: list[Site]) -> list[Action]:
    """Evaluate one tracker reading of a vehicle."""
    if not p.enabled or not is_newer(state, r):
        return []
    actions = battery(state, r, health, "vehicle", rule=BATTERY, subject=("vehicle", vehicle_id))
    lat, lon = r.num("latitude"), r.num("longitude")
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return actions + _no_fix(state, r, vehicle_id, p)
    state.no_fix = 0
    if state.no_fix_open:
        state.no_fix_open = False
        actions.append(Resolve(NO_FIX, "vehicle", vehicle_id, r.time, note="position fix again",
                               evidence=(r.evidence("latitude"),)))
    actions += _parked(state, r, vehicle_id, p, lat=lat, lon=lon)
    actions += _arrival(state, r, vehicle_id, p, lat=lat, lon=lon, sites=sites)
    return actions


def _no_fix(state: VehicleState, r: Reading, vehicle_id: str, p: VehicleParams) -> (
    list[Action]
):
    state.no_fix += 1
    if state.no_fix_open or state.no_fix < p.no_fix_readings:
        return []
    state.no_fix_open = True
    return [Open(rule=NO_FIX, kind="vehicle", subject_type="vehicle", subject_id=vehicle_id,
                 at=r.time, title=f"Tracker of vehicle {vehicle_id} has no GPS fix",
                 priority=4, due_at=r.time + timedelta(days=3), since=r.time,
                 evidence=({"time": r.time.isoformat(), "dev_eui": r.dev_eui,
                            "name": "latitude", "value": None},),
                 defect="no_fix", dev_eui=r.dev_eui)]


def _parked(state: VehicleState, r: Reading, vehicle_id: str, p: VehicleParams, *,
            lat: float, lon: float) -> list[Action]:
    anchor = state.anchor
    moved = anchor is None or distance_m(lat, lon, anchor[0], anchor[1]) > p.stationary_radius_m
    in_depot = p.depot is not None and distance_m(
        lat, lon, p.depot.latitude, p.depot.longitude) <= p.depot.radius_m
    if moved:
        state.anchor = anchor = [lat, lon, r.ts]
    if state.parked_open:
        if moved or in_depot:
            state.parked_open = False
            return [Resolve(PARKED, "vehicle", vehicle_id, r.time,
                            note="back in the depot" if in_depot else "moving again",
                            evidence=(r.evidence("latitude"),))]
        return []
    if p.depot is None or in_depot or moved:
        return []
    assert anchor is not None  # not moved: the stored anchor
    since = float(anchor[2])
    if r.ts - since < p.stationary_h * 3600 or working(r.time, p):
        return []
    state.parked_open = True
    start = datetime.fromtimestamp(since, UTC)
    return [Open(rule=PARKED, kind="vehicle", subject_type="vehicle", subject_id=vehicle_id,
                 at=r.time, title=f"Vehicle {vehicle_id} parked outside the depot since "
                                  f"{start:%Y-%m-%d %H:%M}",
                 priority=p.priority, due_at=r.time + timedelta(hours=12), since=start,
                 evidence=(r.evidence("latitude") | {"longitude": lon},),
                 params={"latitude": lat, "longitude": lon}, dev_eui=r.dev_eui)]


def _arrival(state: VehicleState, r: Reading, vehicle_id: str, p: VehicleParams, *,
             lat: float, lon: float, sites: list[Site]) -> list[Action]:
    near = state.near
    done = state.arrived
    current: dict[str, int] = {}
    actions: list[Action] = []
    # The great-circle distance is never less than the latitudes' arc: sites further north
    # or south than the radius (with a margin for rounding) are out without the haversine,
    # which every tracker reading computed for every open site.
    beyond = p.arrival_radius_m * (1 + 1e-6) / EARTH_RADIUS_M * 180 / math.pi
    for site in sites:
        if abs(site.latitude - lat) > beyond:
            continue
        if distance_m(lat, lon, site.latitude, site.longitude) > p.arrival_radius_m:
            continue
        count = near.get(str(site.order_id), 0) + 1
        current[str(site.order_id)] = count
        if count >= p.arrival_readings and site.order_id not in done:
            done.append(site.order_id)
            actions.append(Progress(site.order_id, r.time, Assignee("vehicle", vehicle_id),
                                    note=f"vehicle {vehicle_id} stopped at the site"))
    state.near = current
    del done[:-50]
    return actions
