"""What one engine step needs from the database, loaded before the rules run.

The step reads the town, the open orders and the weather of the step's event-time window
in a few queries; evaluation then works on this snapshot alone (no query per reading). The
weather look-ups here answer what `assets.weather_at` and `water_balance.load_hours` /
`load_waterings` answer in SQL, from the rows loaded for the window (the same rows, so the
same answers).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg

from rules import orders, vehicles
from rules.assets import Town, Weather
from rules.water_balance import WINDOW_DAYS, WaterPlace, WeatherHour, watering_mm

# Order kinds a vehicle's stop can work on (it stops at the order's site).
SITE_KINDS = ("empty_bin", "watering", "bin_maintenance", "citizen_defect")
AHEAD = timedelta(hours=24)


class WeatherRow(NamedTuple):
    """One row of table weather, as the look-ups need it (the columns of `_WEATHER`)."""

    time: datetime
    station: str
    source: str
    kind: str
    rain_mm_h: float
    temperature_c: float | None
    forecast_rain_mm_24h: float | None
    rain_probability_pct: float | None
    issued_at: datetime | None
    et0_mm: float | None


_WEATHER = ("SELECT time, station, source, kind, rain_mm_h, temperature_c, forecast_rain_mm_24h, "
            "rain_probability_pct, issued_at, et0_mm FROM weather "
            "WHERE time > %s AND time <= %s ORDER BY time, station, source")


def _probable(row: WeatherRow) -> float:
    """A forecast hour's rain times its probability (an hour without one counts in full)."""
    p = 100.0 if row.rain_probability_pct is None else row.rain_probability_pct
    return row.rain_mm_h * p / 100


@dataclass(frozen=True, slots=True)
class WeatherWindow:
    """The weather rows of (start, end], with the rules' look-ups over them."""

    start: datetime
    end: datetime
    rows: tuple[WeatherRow, ...] = ()  # by time
    _times: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_times", tuple(w.time for w in self.rows))

    def _between(self, after: datetime, until: datetime) -> tuple[WeatherRow, ...]:
        """The rows of (after, until]."""
        return self.rows[bisect_right(self._times, after):bisect_right(self._times, until)]

    def at(self, at: datetime, max_age: timedelta) -> Weather | None:
        """What `assets.weather_at(conn, at, max_age)` answers, from these rows."""
        assert self.start <= at - max_age and at + AHEAD <= self.end, "outside the window"
        recent = self._between(at - max_age, at)
        mqtt = [w for w in recent if w.source == "mqtt"]
        if mqtt:
            latest = max(w.time for w in mqtt)
            hour = [w for w in mqtt if w.time == latest]
            forecasts = [w.forecast_rain_mm_24h for w in hour if w.forecast_rain_mm_24h is not None]
            return Weather(latest, max(w.rain_mm_h for w in hour),
                           max(forecasts) if forecasts else None)
        fetched = [w for w in recent if w.source != "mqtt"]
        if not fetched:
            return None
        # Newest hour; an observation before a forecast of it; a newer forecast first.
        best = max(fetched, key=_fetched_key)
        rain = _probable(best) if best.kind == "forecast" else best.rain_mm_h
        newest: dict[datetime, WeatherRow] = {}
        for w in self._between(at, at + AHEAD):
            if w.kind == "forecast" and w.source != "mqtt":
                seen = newest.get(w.time)
                if seen is None or _newer(w, seen):
                    newest[w.time] = w
        expected = round(sum(_probable(w) for _, w in sorted(newest.items())), 1) \
            if newest else None
        return Weather(best.time, rain, expected)

    def hours(self, until: datetime) -> list[WeatherHour]:
        """What `water_balance.load_hours(conn, until)` answers, from these rows."""
        since = until - timedelta(days=WINDOW_DAYS)
        assert self.start < since and until <= self.end, "outside the window"
        best: dict[datetime, WeatherRow] = {}
        for w in self.rows[bisect_left(self._times, since):bisect_left(self._times, until)]:
            if since <= w.time < until:
                seen = best.get(w.time)
                if seen is None or _hour_key(w) < _hour_key(seen):
                    best[w.time] = w
        return [WeatherHour(t, w.rain_mm_h, w.temperature_c, w.et0_mm)
                for t, w in sorted(best.items())]


def _newer(a: WeatherRow, b: WeatherRow) -> bool:
    """Whether forecast a was issued after b (one without an issue time comes last)."""
    if a.issued_at is None:
        return False
    return b.issued_at is None or a.issued_at > b.issued_at


def _fetched_key(w: WeatherRow) -> tuple[datetime, bool, bool, float]:
    """ORDER BY time DESC, kind = 'observed' DESC, issued_at DESC NULLS LAST, as a max."""
    issued = w.issued_at.timestamp() if w.issued_at is not None else 0.0
    return (w.time, w.kind == "observed", w.issued_at is not None, issued)


def _hour_key(w: WeatherRow) -> tuple[bool, bool, bool, float, str]:
    """The hour's order of preference: MQTT, then observed, then the newest issue time."""
    issued = -w.issued_at.timestamp() if w.issued_at is not None else 0.0
    return (w.source != "mqtt", w.kind != "observed", w.issued_at is None, issued, w.station)


def load_weather(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> (
    WeatherWindow
):
    """The weather rows of (start, end]."""
    rows = conn.execute(_WEATHER, (start, end)).fetchall()
    return WeatherWindow(start, end, tuple(WeatherRow(*r) for r in rows))


@dataclass(frozen=True, slots=True)
class Watering:
    """A recorded watering: an order done, or resolved as watered by the sponsor."""

    area_id: str
    at: datetime
    litres: float | None


def load_waterings(conn: psycopg.Connection[Any], since: datetime) -> tuple[Watering, ...]:
    """The recorded waterings since `since`, oldest first (as water_balance.load_waterings
    selects them)."""
    rows = conn.execute(
        "SELECT subject_id, resolved_at, (params->>'litres')::float8 FROM work_orders "
        "WHERE kind = 'watering' AND subject_type = 'green_area' AND resolved_at >= %s "
        "AND (status = 'done' OR (status = 'resolved' AND resolved_by LIKE 'sponsor:%%')) "
        "ORDER BY resolved_at", (since,)).fetchall()
    return tuple(Watering(str(r[0]), r[1], r[2]) for r in rows)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything evaluation reads, loaded at the start of a step."""

    town: Town
    open_orders: tuple[orders.Order, ...] = ()
    weather: WeatherWindow | None = None
    waterings: tuple[Watering, ...] = ()
    sites: tuple[vehicles.Site, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sites", tuple(
            vehicles.Site(o.id, o.latitude, o.longitude) for o in self.open_orders
            if o.latitude is not None and o.longitude is not None
            and o.status in ("open", "assigned") and o.kind in SITE_KINDS))

    def weather_at(self, max_age_h: float) -> Callable[[datetime], Weather | None]:
        """The rules' weather look-up (always None while the town stores no weather)."""
        window = self.weather
        if window is None or not self.town.has_weather:
            return lambda _at: None
        age = timedelta(hours=max_age_h)
        return lambda at: window.at(at, age)

    def waterings_since(self, since: datetime,
                        places: Iterable[tuple[str, WaterPlace]]) -> dict[
                            str, list[tuple[datetime, float]]]:
        """What `water_balance.load_waterings` answers, from the loaded waterings."""
        sizes = dict(places)
        out: dict[str, list[tuple[datetime, float]]] = {}
        for w in self.waterings:
            if w.at >= since:
                out.setdefault(w.area_id, []).append(
                    (w.at, watering_mm(w.litres, sizes.get(w.area_id))))
        return out


def load_open_orders(conn: psycopg.Connection[Any]) -> tuple[orders.Order, ...]:
    """The open orders, by status (open, assigned, in progress) then id, in one query."""
    return tuple(orders.list_open(conn))
