"""What the rules know about the town: devices, bins, green areas, sponsors, and the weather."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from bauhof.areas import size_m2
from bauhof.assets import bin_fill_pct


@dataclass(frozen=True, slots=True)
class Device:
    """A registered device and the asset it measures."""

    dev_eui: str
    model: str | None
    kind: str
    asset_type: str | None
    asset_id: str | None
    expected_interval_s: float | None


@dataclass(frozen=True, slots=True)
class Sponsor:
    """A green area's sponsor (Pate) and when the sponsorship runs."""

    id: str
    name: str
    email: str | None
    period_start: date | None
    period_end: date | None
    lang: str = "de"

    def active(self, on: date) -> bool:
        """Whether the sponsorship covers this day and there is an address to write to."""
        if not self.email:
            return False
        if self.period_start and on < self.period_start:
            return False
        return not (self.period_end and on > self.period_end)


@dataclass(frozen=True, slots=True)
class Area:
    """A green area."""

    id: str
    name: str
    plant_type: str
    latitude: float
    longitude: float
    sponsor: Sponsor | None
    moisture_low_pct: float | None
    moisture_clear_pct: float | None
    # Square metres (from the polygon or radius) and young trees (tag `trees`), for the
    # order's size in litres.
    size_m2: float | None = None
    trees: int | None = None


# The columns of table bins that make a Bin, in its fields' order.
BIN_COLUMNS = ("id, name, latitude, longitude, volume_l, empty_distance_mm, full_distance_mm, "
               "fill_threshold_pct, collection_weekday")


@dataclass(frozen=True, slots=True)
class Bin:
    """A waste bin, its installed geometry and what the planner needs of it."""

    id: str
    name: str | None
    latitude: float
    longitude: float
    volume_l: float
    empty_distance_mm: float
    full_distance_mm: float
    fill_threshold_pct: float | None
    collection_weekday: int | None

    def fill_pct(self, distance_mm: float | None) -> float | None:
        """Fill level from a distance reading, clamped to 0..100 (None without a distance)."""
        return bin_fill_pct(distance_mm, self.empty_distance_mm, self.full_distance_mm)


@dataclass(frozen=True, slots=True)
class Weather:
    """The newest weather observation at or before a time, and the rain expected in the
    24 hours after it."""

    time: datetime
    rain_mm_h: float
    forecast_rain_mm_24h: float | None


@dataclass
class Town:
    """A snapshot of the asset tables, refreshed by the engine."""

    devices: dict[str, Device] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)
    bins: dict[str, Bin] = field(default_factory=dict)
    vehicles: dict[str, str] = field(default_factory=dict)
    has_weather: bool = False

    def location(self, subject_type: str, subject_id: str) -> tuple[float, float] | None:
        """Latitude and longitude of an area or a bin, if known."""
        if subject_type == "green_area" and subject_id in self.areas:
            a = self.areas[subject_id]
            return a.latitude, a.longitude
        if subject_type == "bin" and subject_id in self.bins:
            b = self.bins[subject_id]
            return b.latitude, b.longitude
        return None


def load_town(conn: psycopg.Connection[Any]) -> Town:
    """Read every asset table once."""
    town = Town()
    for row in conn.execute(
        "SELECT dev_eui, model, kind, asset_type, asset_id, expected_interval_s FROM devices"
    ):
        town.devices[row[0]] = Device(*row)
    sponsors = {
        row[0]: Sponsor(*row) for row in conn.execute(
            # A sponsor who asked for no more mail is not asked to water either.
            "SELECT id, name, CASE WHEN mail_stopped THEN NULL ELSE email END, period_start, "
            "period_end, lang FROM sponsors")
    }
    for row in conn.execute(
        "SELECT id, name, plant_type, latitude, longitude, sponsor_id, moisture_low_pct, "
        "moisture_clear_pct, radius_m, polygon, tags->>'trees' FROM green_areas"
    ):
        trees = row[10]
        town.areas[row[0]] = Area(row[0], row[1], row[2], row[3], row[4],
                                  sponsors.get(row[5]) if row[5] else None, row[6], row[7],
                                  size_m2(row[8], row[9]),
                                  int(trees) if trees and str(trees).isdigit() else None)
    for row in conn.execute(
        f"SELECT {BIN_COLUMNS} FROM bins"  # noqa: S608 (constant column list)
    ):
        town.bins[row[0]] = Bin(*row)
    town.vehicles = {str(r[0]): str(r[1]) for r in conn.execute("SELECT id, name FROM vehicles")}
    town.has_weather = conn.execute("SELECT EXISTS (SELECT 1 FROM weather)").fetchone() == (True,)
    return town


def weather_at(conn: psycopg.Connection[Any], at: datetime, max_age: timedelta) -> (
    Weather | None
):
    """The weather at `at`, from rows at most max_age old.

    What is published on MQTT (a town's own station; in the demo, the simulator) wins: its
    newest hour (any station) with its own 24-hour forecast. Else the fetched feed's newest
    hour at or before `at` (an observation before a forecast of it, a newer forecast before
    an older one; a forecast hour's rain times its probability), and as the forecast the rain
    expected over the next 24 hours: each hour's newest forecast amount times its probability
    (an hour without one counts in full).
    """
    row = conn.execute(
        "SELECT time, max(rain_mm_h), max(forecast_rain_mm_24h) FROM weather "
        "WHERE source = 'mqtt' AND time = (SELECT max(time) FROM weather WHERE source = 'mqtt' "
        "AND time <= %s AND time > %s) GROUP BY time",
        (at, at - max_age),
    ).fetchone()
    if row is not None:
        return Weather(row[0], float(row[1]), None if row[2] is None else float(row[2]))
    # An hour known only from a forecast rains by its amount times its probability too.
    row = conn.execute(
        "SELECT time, CASE WHEN kind = 'forecast' THEN rain_mm_h * "
        "coalesce(rain_probability_pct, 100) / 100 ELSE rain_mm_h END FROM weather "
        "WHERE source <> 'mqtt' AND time <= %s AND time > %s "
        "ORDER BY time DESC, kind = 'observed' DESC, issued_at DESC NULLS LAST "
        "LIMIT 1", (at, at - max_age)).fetchone()
    if row is None:
        return None
    ahead = conn.execute(
        "SELECT count(*), sum(rain_mm_h * coalesce(rain_probability_pct, 100) / 100) FROM ("
        " SELECT DISTINCT ON (time) rain_mm_h, rain_probability_pct FROM weather"
        " WHERE kind = 'forecast' AND source <> 'mqtt' AND time > %s"
        " AND time <= %s + interval '24 hours'"
        " ORDER BY time, issued_at DESC NULLS LAST) f", (at, at)).fetchone()
    expected = None if ahead is None or not ahead[0] else round(float(ahead[1]), 1)
    return Weather(row[0], float(row[1]), expected)
