"""Fetch one service's answer and store it: retried with backoff, one transaction per answer.

A fetch reads the whole answer and validates it before anything is written, so a timeout, an
HTTP error or a truncated or malformed answer stores nothing; each failed attempt is logged
with its reason and recorded in `weather_feeds`, and the rules go on with the rows already
stored. Rows are upserted by (station, time): the same answer twice stores nothing twice, an
observation replaces the forecast of its hour (never the other way round), a newer forecast
replaces an older one.

A station change (Bright Sky falls back to another station when the nearest one has a gap;
Open-Meteo snaps to another grid cell) is retried like a failure, since the usual station is
usually back on the next attempt; when it is still different on the last attempt the new
station is taken and the change logged, so that a closed station does not stop the feed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from bauhof.errors import ReasonError
from ingest.weather import WeatherError
from ingest.weather.sources import ATTRIBUTION, SOURCES, Answer, AnswerError

log = logging.getLogger("bauhof.weather")
ATTEMPTS = 4
BACKOFF_S = 5.0
TIMEOUT_S = 20.0
USER_AGENT = "bauhof-weather (+https://github.com/bauhof)"


class FetchError(WeatherError, ReasonError):
    """Every attempt failed; `reason` is the last attempt's."""

    template = ("weather {source}: {attempts} attempts failed, the last: {reason}; "
                "the rules keep the rows already stored")
    source: str
    attempts: int
    reason: str


class _StationChanged(WeatherError):
    pass


@dataclass(frozen=True, slots=True)
class Stored:
    """What one fetch stored: the rows inserted or changed, and their span and rain."""

    source: str
    station: str
    stored: int
    observed: int
    forecast: int
    first: datetime | None
    last: datetime | None
    rain_mm: float

    def as_json(self) -> dict[str, Any]:
        """The `--json` object."""
        return {"source": self.source, "station": self.station, "stored": self.stored,
                "observed": self.observed, "forecast": self.forecast,
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None,
                "rain_mm": round(self.rain_mm, 2)}


def town_location(conn: psycopg.Connection[Any]) -> tuple[float, float] | None:
    """The middle of the town's green areas (else its bins), or None without assets."""
    row = conn.execute(
        "SELECT coalesce((SELECT avg(latitude) FROM green_areas), "
        "(SELECT avg(latitude) FROM bins)), coalesce((SELECT avg(longitude) FROM green_areas), "
        "(SELECT avg(longitude) FROM bins))").fetchone()
    if row is None or row[0] is None:
        return None
    return float(row[0]), float(row[1])


def get_answer(client: httpx.Client, source: str, base_url: str, *, lat: float, lon: float,
               days: int, now: datetime) -> Answer:
    """One request, read and validated whole; WeatherError with the reason otherwise."""
    spec = SOURCES[source]
    url = base_url.rstrip("/") + spec.path
    try:
        response = client.get(url, params=spec.params(lat, lon, days, now))
    except httpx.TimeoutException as exc:
        raise WeatherError(f"{source}: timed out ({type(exc).__name__})") from exc
    except httpx.HTTPError as exc:
        # A body cut short of its Content-Length ends here too (RemoteProtocolError).
        raise WeatherError(f"{source}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise WeatherError(f"{source}: HTTP {response.status_code} "
                           f"{response.text[:200].strip()!r}")
    try:
        body = response.json()
    except ValueError as exc:
        raise AnswerError(source, f"not JSON (truncated?): {response.text[-80:]!r}") from exc
    return spec.parse(body, now)


_UPSERT = """
INSERT INTO weather AS w (time, station, rain_mm_h, temperature_c, source, kind,
                          rain_probability_pct, et0_mm, issued_at, fetched_at)
SELECT u.time, u.station, u.rain, u.temperature, %s, u.kind, u.probability, u.et0, u.issued, %s
FROM unnest(%s::timestamptz[], %s::text[], %s::float8[], %s::float8[], %s::text[],
            %s::float8[], %s::float8[], %s::timestamptz[])
     AS u(time, station, rain, temperature, kind, probability, et0, issued)
ON CONFLICT (station, time) DO UPDATE SET
    rain_mm_h = excluded.rain_mm_h, temperature_c = excluded.temperature_c,
    source = excluded.source, kind = excluded.kind,
    rain_probability_pct = excluded.rain_probability_pct, et0_mm = excluded.et0_mm,
    issued_at = excluded.issued_at, fetched_at = excluded.fetched_at
WHERE (w.kind = 'forecast' OR excluded.kind = 'observed')
  AND (excluded.kind = 'observed' OR w.issued_at IS NULL OR excluded.issued_at >= w.issued_at)
  AND (w.rain_mm_h, w.temperature_c, w.source, w.kind, w.rain_probability_pct, w.et0_mm,
       w.issued_at)
      IS DISTINCT FROM (excluded.rain_mm_h, excluded.temperature_c, excluded.source,
                        excluded.kind, excluded.rain_probability_pct, excluded.et0_mm,
                        excluded.issued_at)
RETURNING time, kind, rain_mm_h
"""


def store(conn: psycopg.Connection[Any], answer: Answer, fetched_at: datetime) -> Stored:
    """Upsert the answer's hours and the feed's status, in one transaction."""
    h = answer.hours
    with conn.transaction():
        rows = conn.execute(_UPSERT, (
            answer.source, fetched_at, [x.time for x in h], [x.station for x in h],
            [float(x.rain_mm) for x in h], [_float(x.temperature_c) for x in h],
            [x.kind for x in h], [_float(x.probability_pct) for x in h],
            [_float(x.et0_mm) for x in h],
            [x.issued_at for x in h])).fetchall()
        newest = max((x.time for x in h if x.kind == "observed"), default=None)
        conn.execute(
            "INSERT INTO weather_feeds AS f (source, station, station_name, latitude, longitude,"
            " attribution, last_attempt_at, last_success_at, last_error, failures,"
            " newest_observed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL, 0, %s) "
            "ON CONFLICT (source) DO UPDATE SET station = excluded.station,"
            " station_name = excluded.station_name, latitude = excluded.latitude,"
            " longitude = excluded.longitude, attribution = excluded.attribution,"
            " last_attempt_at = excluded.last_attempt_at,"
            " last_success_at = excluded.last_success_at, last_error = NULL, failures = 0,"
            " newest_observed = greatest(f.newest_observed, excluded.newest_observed)",
            (answer.source, answer.station, answer.station_name, answer.latitude,
             answer.longitude, answer.attribution, fetched_at, fetched_at, newest))
    times = [r[0] for r in rows]
    return Stored(answer.source, answer.station, len(rows),
                  sum(1 for r in rows if r[1] == "observed"),
                  sum(1 for r in rows if r[1] == "forecast"),
                  min(times, default=None), max(times, default=None),
                  sum(float(r[2]) for r in rows))


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def record_failure(conn: psycopg.Connection[Any], source: str, reason: str,
                   at: datetime) -> None:
    """Note a failed attempt (its reason, and one more failure in a row)."""
    conn.execute(
        "INSERT INTO weather_feeds AS f (source, attribution, last_attempt_at, last_error,"
        " failures) VALUES (%s, %s, %s, %s, 1) ON CONFLICT (source) DO UPDATE SET"
        " last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error,"
        " failures = f.failures + 1",
        (source, ATTRIBUTION[source], at, reason[:500]))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def fetch(conn: psycopg.Connection[Any], source: str, *, lat: float, lon: float, days: int,
          base_url: str | None = None, attempts: int = ATTEMPTS, backoff_s: float = BACKOFF_S,
          timeout_s: float = TIMEOUT_S, sleep: Callable[[float], object] = time.sleep,
          now: Callable[[], datetime] = _utcnow) -> Stored:
    """Fetch and store one answer, retrying failures with exponential backoff and jitter."""
    row = conn.execute("SELECT station FROM weather_feeds WHERE source = %s",
                       (source,)).fetchone()
    previous = row[0] if row else None
    url = base_url or SOURCES[source].base_url
    rng = random.Random()
    reason = ""
    with httpx.Client(timeout=timeout_s, headers={"User-Agent": USER_AGENT},
                      follow_redirects=True) as client:
        for attempt in range(1, attempts + 1):
            at = now()
            try:
                answer = get_answer(client, source, url, lat=lat, lon=lon, days=days, now=at)
                if previous is not None and answer.station != previous:
                    if attempt < attempts:
                        raise _StationChanged(f"{source}: station changed from {previous} to "
                                              f"{answer.station} ({answer.station_name})")
                    log.warning("weather %s: station changed from %s to %s (%s) and stayed "
                                "so for %d attempts: storing under the new station", source,
                                previous, answer.station, answer.station_name, attempts)
                return store(conn, answer, at)
            except WeatherError as exc:
                reason = str(exc)
            log.warning("weather %s: attempt %d of %d failed: %s", source, attempt, attempts,
                        reason)
            record_failure(conn, source, reason, at)
            if attempt < attempts:
                # Exponential backoff with jitter, so that many towns do not retry in step.
                sleep(backoff_s * 2 ** (attempt - 1) * rng.uniform(0.8, 1.2))
    raise FetchError(source, attempts, reason)
