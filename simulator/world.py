"""The simulated town's true state: weather, soils, bins, vehicles, batteries, and what acts on
them (rain, collection rounds, and later the crews through `water`, `empty_bin`,
`replace_battery`). Every change a person would care about goes to the ground truth.
"""

from __future__ import annotations

import random

from bauhof.areas import size_m2
from bauhof.geo import Place, flat_distance_m
from simulator.bins import BinFill, centre_factor
from simulator.clock import TownTime
from simulator.scenario import Scenario
from simulator.sensors import Battery
from simulator.soil import PLANTS, Soil
from simulator.truth import Truth
from simulator.vehicles import (
    SHIFT_END_H,
    SHIFT_START_H,
    DayPlan,
    Visit,
    collection_plan,
    loop_plan,
)
from simulator.weather import Weather


class World:
    """Everything that exists in the town, advanced lazily to the time it is looked at."""

    def __init__(self, scenario: Scenario, seed: int, start_us: int, truth: Truth) -> None:
        self.scenario = scenario
        self.seed = seed
        self.truth = truth
        town = scenario.town
        self.town_time = TownTime(town.timezone)
        self.weather = Weather(scenario.weather, seed, town.longitude, start_us)
        self.depot: Place = (town.depot.latitude, town.depot.longitude)
        init = random.Random(f"{seed}:world")
        first = self.weather.at(start_us)
        self.soils: dict[str, Soil] = {}
        self._area_m2 = {a.id: size_m2(a.radius_m, [list(p) for p in a.polygon] if a.polygon
                                       else None) for a in scenario.green_areas}
        self.conductivity: dict[str, float] = {}
        for area in scenario.green_areas:
            params = PLANTS[area.plant_type]
            moisture = init.uniform(params.wilting_point_pct + 10, params.field_capacity_pct)
            self.soils[area.id] = Soil(params, moisture, first.temperature_c, start_us)
            self.conductivity[area.id] = init.uniform(8.0, 20.0)  # µS/cm per % moisture
        self.bins: dict[str, BinFill] = {}
        for b in scenario.bins:
            from_centre = flat_distance_m(b.latitude, b.longitude, town.latitude, town.longitude)
            self.bins[b.id] = BinFill(
                b.waste_type, centre=centre_factor(from_centre), fill=init.uniform(0.05, 0.6),
                start_us=start_us, rng=random.Random(f"{seed}:bin:{b.id}"),
                town_time=self.town_time,
            )
        self.bin_config = {b.id: b for b in scenario.bins}
        self.plans: dict[str, DayPlan] = {v.id: DayPlan(self.depot) for v in scenario.vehicles}
        self._vehicle_rng = {
            v.id: random.Random(f"{seed}:vehicle:{v.id}") for v in scenario.vehicles
        }
        # Vans driven by the simulated crews get their plans from the crews, not patrols.
        self.crew_vehicles: set[str] = set()
        self.batteries: dict[str, Battery] = {
            d.dev_eui: Battery(init.uniform(0.55, 1.0)) for d in scenario.devices
        }

    def plan_day(self, day_us: int) -> list[tuple[Visit, str]]:
        """Plan every vehicle's day starting at local midnight `day_us`; the bins to empty."""
        weekday, _ = self.town_time.weekday_hour(day_us + 12 * 3600 * 10**6)
        trucks = sorted(v.id for v in self.scenario.vehicles if v.kind == "truck")
        due = sorted(
            (b for b in self.scenario.bins if b.collection_weekday == weekday),
            key=lambda b: (b.longitude, b.id),
        )
        emptying: list[tuple[Visit, str]] = []
        for vehicle in self.scenario.vehicles:
            rng = self._vehicle_rng[vehicle.id]
            if vehicle.id in self.crew_vehicles:
                continue
            start = self.town_time.at_local(day_us, SHIFT_START_H[vehicle.kind])
            if weekday >= 5:
                self.plans[vehicle.id] = DayPlan(self.depot)
            elif vehicle.kind == "truck":
                index = trucks.index(vehicle.id)
                share = due[index * len(due) // len(trucks) : (index + 1) * len(due) // len(trucks)]
                stops = [(b.id, (b.latitude, b.longitude)) for b in share]
                plan = collection_plan(start, self.depot, stops, rng)
                self.plans[vehicle.id] = plan
                emptying += [(visit, vehicle.id) for visit in plan.visits]
            else:
                route = self.scenario.town.routes.get(vehicle.id, [])
                end = self.town_time.at_local(day_us, SHIFT_END_H)
                waypoints = [(lat, lon) for lon, lat in route]
                self.plans[vehicle.id] = loop_plan(start, end, self.depot, waypoints, rng)
        return emptying

    def place_of(self, subject_type: str, subject_id: str) -> Place | None:
        """Where a green area, bin, vehicle or device (its asset) is."""
        if subject_type == "green_area":
            area = next((a for a in self.scenario.green_areas if a.id == subject_id), None)
            return None if area is None else (area.latitude, area.longitude)
        if subject_type == "bin":
            b = self.bin_config.get(subject_id)
            return None if b is None else (b.latitude, b.longitude)
        if subject_type == "vehicle":
            plan = self.plans.get(subject_id)
            if plan is None:
                return None
            return plan.legs[-1].target if plan.legs else plan.home
        device = next((d for d in self.scenario.devices if d.dev_eui == subject_id), None)
        ref = None if device is None else device.asset_ref
        return None if ref is None else self.place_of(*ref)

    def vehicle_at(self, vehicle_id: str, t_us: int) -> tuple[Place, bool, bool]:
        """(position, moving, on shift) of a vehicle."""
        plan = self.plans[vehicle_id]
        place, moving = plan.position(t_us)
        return place, moving, plan.on_shift(t_us)

    def area_m2(self, area_id: str) -> float | None:
        """A green area's size in square metres (polygon or radius), if known."""
        return self._area_m2.get(area_id)

    def soil(self, area_id: str, t_us: int) -> Soil:
        """The soil of a green area, advanced to `t_us`."""
        soil = self.soils[area_id]
        soil.advance(t_us, self.weather)
        return soil

    def bin_fill(self, bin_id: str, t_us: int) -> float:
        """A bin's true fill (share of full) at `t_us`; records overflows as they happen."""
        overflow_at = self.bins[bin_id].advance(t_us)
        if overflow_at is not None:
            self.truth.write(overflow_at, "overflow", bin=bin_id)
        return self.bins[bin_id].fill

    def water(self, area_id: str, mm: float, t_us: int, by: str) -> None:
        """Water a green area with `mm` litres per square metre."""
        soil = self.soil(area_id, t_us)
        before = soil.moisture_pct
        soil.water(mm)
        self.truth.write(t_us, "watered", green_area=area_id, mm=mm, by=by,
                         moisture_before=round(before, 3),
                         moisture_after=round(soil.moisture_pct, 3))

    def empty_bin(self, bin_id: str, t_us: int, by: str) -> None:
        """Empty a bin."""
        self.bin_fill(bin_id, t_us)
        before = self.bins[bin_id].empty()
        self.truth.write(t_us, "emptied", bin=bin_id, by=by,
                         fill_before_pct=round(before * 100, 2))

    def replace_battery(self, dev_eui: str, t_us: int, by: str) -> None:
        """Fit a new battery to a device."""
        self.batteries[dev_eui] = Battery(1.0)
        self.truth.write(t_us, "battery_replaced", dev_eui=dev_eui, by=by)
