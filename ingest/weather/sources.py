"""The two weather services' answers, validated once into frozen hours.

- **Bright Sky** (https://brightsky.dev, DWD open data, no key): `GET /weather?lat=&lon=&date=
  &last_date=` answers `{"weather": [record, …], "sources": [source, …]}`. A record has
  `timestamp` (ISO 8601 with offset), `source_id`, `precipitation` (mm in the hour *before*
  the timestamp), `temperature` (°C), `precipitation_probability` (%, forecasts only), …;
  a source has `id`, `observation_type` (`historical`, `current`, `synop`: observed;
  `forecast`: DWD MOSMIX), `dwd_station_id`, `wmo_station_id`, `station_name`, `lat`, `lon`,
  `distance` (m), `first_record`, `last_record`.
- **Open-Meteo** (https://open-meteo.com, CC BY 4.0): `GET /v1/forecast?latitude=&longitude=
  &hourly=precipitation,precipitation_probability,temperature_2m,et0_fao_evapotranspiration
  &past_days=` answers column-wise: `hourly.time[]` (local times of the requested zone,
  without offset; `utc_offset_seconds` gives it) and one array per variable, precipitation and
  ET0 summed over the hour before the time. Hours up to now are taken as observed (the
  service's best estimate of the past), later ones as forecast; the answer carries no model
  run time, so a forecast's issue time is the hour it was fetched in.

Both services give an hour's rain at the hour's end; a row's `time` is the hour's start, as
for the simulator's observations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from bauhof.errors import ReasonError
from ingest.weather import WeatherError

HOUR = timedelta(hours=1)
Kind = Literal["observed", "forecast"]
BRIGHTSKY = "brightsky"
OPEN_METEO = "open-meteo"
ATTRIBUTION = {
    BRIGHTSKY: "Datenbasis: Deutscher Wetterdienst (via Bright Sky)",
    OPEN_METEO: "Weather data by Open-Meteo.com, CC BY 4.0 (https://open-meteo.com/)",
}
OBSERVATION_TYPES = {"historical": "observed", "current": "observed", "synop": "observed",
                     "forecast": "forecast"}
# Observed data of one hour, best first: the quality-checked archive over recent reports.
_RANK = {"historical": 0, "current": 1, "synop": 2, "forecast": 3}


class AnswerError(WeatherError, ReasonError):
    """A service's answer that cannot be used (malformed, truncated, inconsistent)."""

    template = "{source}: malformed answer: {reason}"
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class Hour:
    """One station's weather in the hour starting at `time` (UTC)."""

    time: datetime
    station: str
    kind: Kind
    rain_mm: float
    temperature_c: float | None
    probability_pct: float | None
    et0_mm: float | None
    issued_at: datetime | None


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole answer: its hours and the station it came from (the nearest observing one)."""

    source: str
    station: str
    station_name: str
    latitude: float
    longitude: float
    hours: tuple[Hour, ...]

    @property
    def attribution(self) -> str:
        """The line to show wherever this data is shown."""
        return ATTRIBUTION[self.source]


def _number(source: str, value: Any, what: str, *, low: float | None = None,
            high: float | None = None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AnswerError(source, f"{what} is {value!r}, expected a number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise AnswerError(source, f"{what} {value} is outside {low}..{high}")
    return float(value)


def _iso(source: str, text: Any, what: str) -> datetime:
    """`text` as an ISO 8601 time, with its UTC offset or without (a local time)."""
    if not isinstance(text, str):
        raise AnswerError(source, f"{what} is {text!r}, expected an ISO 8601 time")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise AnswerError(source, f"{what} {text[:40]!r} is not an ISO 8601 time") from None


def _time(source: str, text: Any, what: str) -> datetime:
    value = _iso(source, text, what)
    if value.tzinfo is None:
        raise AnswerError(source, f"{what} {text[:40]!r} has no UTC offset")
    return value.astimezone(UTC)


def _hour_start(source: str, end: datetime, what: str) -> datetime:
    if end.minute or end.second or end.microsecond:
        raise AnswerError(source, f"{what} {end.isoformat()} is not on the full hour")
    return end - HOUR


def parse_brightsky(body: Any, fetched_at: datetime) -> Answer:
    """A Bright Sky `/weather` answer as hours (observed or forecast by the source's type)."""
    src = BRIGHTSKY
    if not isinstance(body, dict) or not isinstance(body.get("weather"), list) or \
            not isinstance(body.get("sources"), list):
        raise AnswerError(src, "expected an object with lists `weather` and `sources`")
    sources: dict[int, dict[str, Any]] = {}
    for i, s in enumerate(body["sources"]):
        if not isinstance(s, dict) or not isinstance(s.get("id"), int):
            raise AnswerError(src, f"sources[{i}] has no integer id")
        if s.get("observation_type") not in OBSERVATION_TYPES:
            raise AnswerError(src, f"sources[{i}].observation_type is "
                                   f"{s.get('observation_type')!r}")
        _number(src, s.get("lat"), f"sources[{i}].lat", low=-90, high=90)
        _number(src, s.get("lon"), f"sources[{i}].lon", low=-180, high=180)
        sources[s["id"]] = s
    best: dict[tuple[str, datetime], tuple[int, Hour]] = {}
    for i, record in enumerate(body["weather"]):
        if not isinstance(record, dict):
            raise AnswerError(src, f"weather[{i}] is not an object")
        s = sources.get(record.get("source_id"))  # type: ignore[arg-type]
        if s is None:
            raise AnswerError(src, f"weather[{i}].source_id {record.get('source_id')!r} is "
                                   "not among the sources")
        start = _hour_start(src, _time(src, record.get("timestamp"), f"weather[{i}].timestamp"),
                            f"weather[{i}].timestamp")
        rain = _number(src, record.get("precipitation"), f"weather[{i}].precipitation", low=0)
        temperature = _number(src, record.get("temperature"), f"weather[{i}].temperature",
                              low=-80, high=60)
        probability = _number(src, record.get("precipitation_probability"),
                              f"weather[{i}].precipitation_probability", low=0, high=100)
        if rain is None:
            continue  # the hour is missing at the station: no rain is not the same as 0 mm
        kind: Kind = "forecast" if s["observation_type"] == "forecast" else "observed"
        issued = (_time(src, s.get("first_record"), f"sources[{s['id']}].first_record")
                  if kind == "forecast" and s.get("first_record") else None)
        hour = Hour(start, _station(s), kind, rain, temperature, probability, None, issued)
        rank = _RANK[s["observation_type"]]
        key = (hour.station, start)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, hour)
    if not best:
        raise AnswerError(src, "no hour with precipitation in the answer")
    observing = [s for s in sources.values() if s["observation_type"] != "forecast"]
    main = min(observing or list(sources.values()),
               key=lambda s: (float(s.get("distance") or 0.0), s["id"]))
    hours = tuple(sorted((h for _, h in best.values()), key=lambda h: (h.time, h.station)))
    return Answer(src, _station(main), str(main.get("station_name") or _station(main)),
                  float(main["lat"]), float(main["lon"]), hours)


def _station(source: dict[str, Any]) -> str:
    """A DWD station by its WMO id (shared by MOSMIX forecasts and SYNOP reports), else its
    DWD id, else Bright Sky's source id."""
    if source.get("wmo_station_id"):
        return f"dwd:{source['wmo_station_id']}"
    if source.get("dwd_station_id"):
        return f"dwd:{source['dwd_station_id']}"
    return f"brightsky:{source['id']}"


OPEN_METEO_HOURLY = ("precipitation", "precipitation_probability", "temperature_2m",
                     "et0_fao_evapotranspiration")


def parse_open_meteo(body: Any, fetched_at: datetime) -> Answer:
    """An Open-Meteo `/v1/forecast` answer as hours: up to `fetched_at` observed, later
    forecast (issued in the hour of the fetch)."""
    src = OPEN_METEO
    if not isinstance(body, dict) or not isinstance(body.get("hourly"), dict):
        raise AnswerError(src, "expected an object with an `hourly` object")
    if body.get("error"):
        raise AnswerError(src, f"error answer: {str(body.get('reason'))[:200]}")
    lat = _number(src, body.get("latitude"), "latitude", low=-90, high=90)
    lon = _number(src, body.get("longitude"), "longitude", low=-180, high=180)
    offset = _number(src, body.get("utc_offset_seconds", 0), "utc_offset_seconds",
                     low=-86400, high=86400)
    if lat is None or lon is None or offset is None:
        raise AnswerError(src, "latitude, longitude and utc_offset_seconds are required")
    hourly = body["hourly"]
    times = hourly.get("time")
    if not isinstance(times, list) or not times:
        raise AnswerError(src, "hourly.time is missing or empty")
    columns: dict[str, list[Any]] = {}
    for name in OPEN_METEO_HOURLY:
        column = hourly.get(name)
        if column is None and name != "precipitation":
            column = [None] * len(times)
        if not isinstance(column, list) or len(column) != len(times):
            got = len(column) if isinstance(column, list) else "no"
            raise AnswerError(src, f"hourly.{name} has {got} values for {len(times)} hours "
                                   "(truncated?)")
        columns[name] = column
    station = f"open-meteo:{lat:.3f},{lon:.3f}"
    issued = fetched_at.replace(minute=0, second=0, microsecond=0)
    hours: list[Hour] = []
    for i, text in enumerate(times):
        local = _iso(src, text, f"hourly.time[{i}]")
        end = (local.replace(tzinfo=None) - timedelta(seconds=offset)).replace(tzinfo=UTC)
        start = _hour_start(src, end, f"hourly.time[{i}]")
        if hours and start <= hours[-1].time:
            raise AnswerError(src, f"hourly.time[{i}] {text!r} is not after the one before")
        rain = _number(src, columns["precipitation"][i], f"hourly.precipitation[{i}]", low=0)
        if rain is None:
            continue
        observed = end <= fetched_at
        hours.append(Hour(
            start, station, "observed" if observed else "forecast", rain,
            _number(src, columns["temperature_2m"][i], f"hourly.temperature_2m[{i}]",
                    low=-80, high=60),
            _number(src, columns["precipitation_probability"][i],
                    f"hourly.precipitation_probability[{i}]", low=0, high=100),
            _number(src, columns["et0_fao_evapotranspiration"][i],
                    f"hourly.et0_fao_evapotranspiration[{i}]", low=0),
            None if observed else issued))
    if not hours:
        raise AnswerError(src, "no hour with precipitation in the answer")
    return Answer(src, station, f"Open-Meteo {lat:.3f} N {lon:.3f} E", lat, lon, tuple(hours))


@dataclass(frozen=True, slots=True)
class Source:
    """How to ask one service and read its answer."""

    name: str
    base_url: str
    path: str
    params: Callable[[float, float, int, datetime], dict[str, str]]
    parse: Callable[[Any, datetime], Answer]


def _brightsky_params(lat: float, lon: float, days: int, now: datetime) -> dict[str, str]:
    first = (now - timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    last = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=48)
    return {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}", "date": first.isoformat(),
            "last_date": last.isoformat(), "tz": "Etc/UTC"}


def _open_meteo_params(lat: float, lon: float, days: int, now: datetime) -> dict[str, str]:
    return {"latitude": f"{lat:.4f}", "longitude": f"{lon:.4f}",
            "hourly": ",".join(OPEN_METEO_HOURLY), "past_days": str(days),
            "forecast_days": "2", "timezone": "GMT"}


SOURCES = {
    BRIGHTSKY: Source(BRIGHTSKY, "https://api.brightsky.dev", "/weather", _brightsky_params,
                      parse_brightsky),
    OPEN_METEO: Source(OPEN_METEO, "https://api.open-meteo.com", "/v1/forecast",
                       _open_meteo_params, parse_open_meteo),
}
