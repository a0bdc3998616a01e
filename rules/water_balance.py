"""A water balance per green area from the weather: rain in, evapotranspiration out.

The root zone is a bucket (FAO-56, Allen et al. 1998, ch. 8) holding TAW = 22 % (field
capacity minus wilting point of a loam) of the plant's root depth. Hour by hour over the last
`WINDOW_DAYS` days, starting full:

    ET   = k_c · ET0 · K_s,  K_s = 1 while D ≤ p·TAW, else (TAW - D) / ((1 - p)·TAW)
    D   ← clamp(D + ET - i·rain - watered, 0, TAW)

with the plant's crop coefficient k_c, the share i of rain that reaches the soil, and
p = 0.5 (readily available water). The area needs water when the depletion D reaches p·TAW.
ET0 is Open-Meteo's FAO-56 reference evapotranspiration when the source gives it, otherwise
Hargreaves (FAO-56 eq. 52) from the UTC day's temperatures and the latitude:

    ET0 = 0.0023 · (T_mean + 17.8) · (T_max - T_min)^0.5 · 0.408·R_a   (mm/day)

R_a (extraterrestrial radiation, FAO-56 eq. 21) from the day of year and latitude, spread
evenly over the day's hours; a day with fewer than 20 hours so far takes the last whole day's
value. Waterings are the watering orders that ended done (by a crew,
a vehicle's crew or a sponsor through the crew app) or that the rules resolved as watered by
the sponsor; each counts with its order's size, else the plant's usual dose (p·TAW).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

AVAILABLE_WATER_PCT = 22.0
FIELD_CAPACITY_PCT = 32.0
DEPLETION = 0.5
WINDOW_DAYS = 21
SHOWN_DAYS = 7
# A young tree's watering soaks its planting pit (about 1.1 m around the trunk).
TREE_PIT_M2 = 4.0
# Guidance for young street trees (e.g. Berlin's "Gieß den Kiez"): 100-200 l a week.
TREE_LITRES = (100.0, 200.0)
SOLAR_CONSTANT = 0.0820  # MJ m-2 min-1
MJ_TO_MM = 0.408
COMPLETE_DAY_HOURS = 20


@dataclass(frozen=True, slots=True)
class Plant:
    """What the balance needs to know of a plant type."""

    crop_coefficient: float
    root_depth_mm: float
    rain_share: float
    per_tree: bool = False

    @property
    def capacity_mm(self) -> float:
        """Total available water of the root zone (TAW)."""
        return AVAILABLE_WATER_PCT * self.root_depth_mm / 100

    @property
    def trigger_mm(self) -> float:
        """The depletion at which the area needs water (p·TAW)."""
        return DEPLETION * self.capacity_mm


PLANTS = {
    "lawn": Plant(0.9, 100, 0.9),
    "flowers": Plant(1.0, 150, 0.9),
    "shrubs": Plant(0.7, 300, 0.8),
    "meadow": Plant(0.8, 200, 0.9),
    "trees": Plant(0.8, 400, 0.7),
    "young_tree": Plant(0.8, 400, 0.7, per_tree=True),
}


def plant(plant_type: str) -> Plant:
    """The plant type's parameters (a lawn's for types the balance does not know)."""
    return PLANTS.get(plant_type, PLANTS["lawn"])


@dataclass(frozen=True, slots=True)
class WeatherHour:
    """The weather of the hour starting at `time`, as the balance uses it."""

    time: datetime
    rain_mm: float
    temperature_c: float | None
    et0_mm: float | None


@dataclass(frozen=True, slots=True)
class Balance:
    """An area's water balance at `as_of`; the sums are over the last `SHOWN_DAYS` days."""

    as_of: datetime
    rain_mm: float
    et_mm: float
    watered_mm: float
    deficit_mm: float
    capacity_mm: float
    trigger_mm: float
    et0_source: str

    @property
    def needs_water(self) -> bool:
        """Whether the depletion has reached the readily available water."""
        return self.deficit_mm >= self.trigger_mm


@dataclass(frozen=True, slots=True)
class Dose:
    """How much water an order asks for."""

    litres: int
    litres_per_m2: float | None
    litres_per_tree: int | None
    trees: int | None

    def text(self) -> str:
        """The size as the crew reads it in the order's title."""
        if self.litres_per_tree is not None:
            return f"{self.litres} l ({self.trees} trees x {self.litres_per_tree} l)"
        if self.litres:
            return f"{self.litres} l ({self.litres_per_m2:g} l/m²)"
        return f"{self.litres_per_m2:g} l/m²"

    def params(self) -> dict[str, Any]:
        """The size in the order's params."""
        out: dict[str, Any] = {"litres": self.litres} if self.litres else {}
        if self.litres_per_m2 is not None:
            out["litres_per_m2"] = self.litres_per_m2
        if self.litres_per_tree is not None:
            out.update(litres_per_tree=self.litres_per_tree, trees=self.trees)
        return out


def extraterrestrial_radiation_mm(latitude: float, day_of_year: int) -> float:
    """R_a as mm/day of evaporation equivalent (FAO-56 eqs. 21-25)."""
    phi = math.radians(latitude)
    dr = 1 + 0.033 * math.cos(2 * math.pi * day_of_year / 365)
    delta = 0.409 * math.sin(2 * math.pi * day_of_year / 365 - 1.39)
    ws = math.acos(max(-1.0, min(1.0, -math.tan(phi) * math.tan(delta))))
    ra = 24 * 60 / math.pi * SOLAR_CONSTANT * dr * (
        ws * math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.sin(ws))
    return MJ_TO_MM * ra


def hargreaves_mm_day(t_min: float, t_max: float, t_mean: float, latitude: float,
                      day_of_year: int) -> float:
    """Reference evapotranspiration of a day from its temperatures (FAO-56 eq. 52)."""
    spread = max(t_max - t_min, 0.0)
    return max(0.0, 0.0023 * (t_mean + 17.8) * math.sqrt(spread)
               * extraterrestrial_radiation_mm(latitude, day_of_year))


def et0_per_hour(hours: Sequence[WeatherHour], latitude: float) -> tuple[list[float], str]:
    """ET0 of each hour: the source's, else Hargreaves from the UTC day's temperatures;
    and which it was ('source', 'hargreaves' or a mix)."""
    days: dict[date, list[float]] = {}
    for h in hours:
        if h.temperature_c is not None:
            days.setdefault(h.time.date(), []).append(h.temperature_c)
    daily: dict[date, float] = {}
    complete: float | None = None
    for d in sorted(days):
        t = days[d]
        value = hargreaves_mm_day(min(t), max(t), sum(t) / len(t), latitude,
                                  d.timetuple().tm_yday) / 24
        # A day not yet over (today) has not seen its afternoon: the last whole day's
        # value stands in for it.
        if len(t) >= COMPLETE_DAY_HOURS:
            complete = value
        daily[d] = value if len(t) >= COMPLETE_DAY_HOURS or complete is None else complete
    out: list[float] = []
    used = set()
    for h in hours:
        if h.et0_mm is not None:
            out.append(h.et0_mm)
            used.add("source")
        else:
            out.append(daily.get(h.time.date(), 0.0))
            used.add("hargreaves")
    return out, "+".join(sorted(used)) or "none"


def balance(hours: Sequence[WeatherHour], latitude: float, plant_type: str,
            waterings: Iterable[tuple[datetime, float]], as_of: datetime) -> Balance:
    """The balance at `as_of` from the hours before it and the waterings (time, mm)."""
    p = plant(plant_type)
    et0, source = et0_per_hour(hours, latitude)
    watered = sorted(w for w in waterings if w[0] <= as_of)
    shown_from = as_of - timedelta(days=SHOWN_DAYS)
    deficit = rain_sum = et_sum = water_sum = 0.0
    w = 0
    raw, taw = p.trigger_mm, p.capacity_mm
    for h, e in zip(hours, et0, strict=True):
        if h.time >= as_of:
            break
        added = 0.0
        while w < len(watered) and watered[w][0] < h.time + timedelta(hours=1):
            added += watered[w][1]
            w += 1
        ks = 1.0 if deficit <= raw else max(0.0, (taw - deficit) / (taw - raw))
        et = p.crop_coefficient * e * ks
        deficit = min(taw, max(0.0, deficit + et - p.rain_share * h.rain_mm - added))
        if h.time >= shown_from:
            rain_sum += h.rain_mm
            et_sum += et
            water_sum += added
    return Balance(as_of, round(rain_sum, 1), round(et_sum, 1), round(water_sum, 1),
                   round(deficit, 1), round(taw, 1), round(raw, 1), source)


def dose(deficit_mm: float, plant_type: str, size_m2: float | None,
         trees: int | None) -> Dose:
    """Water to give back `deficit_mm`: per young tree (its pit, within the 100-200 l
    guidance), else per square metre of the area."""
    p = plant(plant_type)
    if p.per_tree:
        count = max(1, trees or 1)
        low, high = TREE_LITRES
        per_tree = int(round(min(high, max(low, deficit_mm * TREE_PIT_M2)) / 10) * 10)
        return Dose(per_tree * count, None, per_tree, count)
    per_m2 = round(max(deficit_mm, 1.0), 1)
    if size_m2 is None:
        return Dose(0, per_m2, None, None)
    return Dose(int(round(per_m2 * size_m2 / 10) * 10), per_m2, None, None)


def moisture_deficit_mm(moisture_pct: float, plant_type: str) -> float:
    """Water (mm) that brings the measured root zone back to field capacity."""
    return max(0.0, (FIELD_CAPACITY_PCT - moisture_pct) * plant(plant_type).root_depth_mm / 100)


# Loading from the database ------------------------------------------------------------------

def load_hours(conn: psycopg.Connection[Any], until: datetime) -> list[WeatherHour]:
    """The town's hours of the last WINDOW_DAYS before `until`: per hour the MQTT-published
    observation (the simulator, a town's own station) first, then fetched observations,
    then the newest forecast."""
    rows = conn.execute(
        "SELECT DISTINCT ON (time) time, rain_mm_h, temperature_c, et0_mm FROM weather "
        "WHERE time >= %s AND time < %s "
        "ORDER BY time, source = 'mqtt' DESC, kind = 'observed' DESC, "
        "issued_at DESC NULLS LAST, station",
        (until - timedelta(days=WINDOW_DAYS), until)).fetchall()
    return [WeatherHour(r[0], float(r[1]), r[2], r[3]) for r in rows]


# What the balance knows of an area for a watering: plant type, m², young trees.
WaterPlace = tuple[str, float | None, int | None]


def watering_mm(litres: float | None, place: WaterPlace | None) -> float:
    """A recorded watering as mm of water on the area (its litres over the area, or over the
    tree pits; a watering without litres counts as the plant's trigger amount)."""
    plant_type, m2, trees = place or ("lawn", None, None)
    p = plant(plant_type)
    if litres and p.per_tree:
        mm = litres / (TREE_PIT_M2 * max(1, trees or 1))
    elif litres and m2:
        mm = litres / m2
    else:
        mm = p.trigger_mm
    return min(mm, p.capacity_mm)
