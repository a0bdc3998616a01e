"""`bauhof weather fetch|run`: the weather feed from Bright Sky (DWD) or Open-Meteo."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import threading
from typing import Any

import psycopg

from bauhof.cli import CommandError, argument_type, command, fail

log = logging.getLogger("bauhof.weather")
_EVERY = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def register(commands: Any, bench: Any) -> None:
    """Add `weather fetch` and `weather run`."""
    from ingest.weather.sources import SOURCES

    parser = command(commands, "weather", cmd_weather,
                     help="fetch rain, temperature and ET0 from Bright Sky (DWD) or Open-Meteo")
    actions = parser.add_subparsers(dest="weather_action", required=True, metavar="ACTION")
    for name, text in (("fetch", "fetch once"), ("run", "fetch now and then every --every")):
        sub = actions.add_parser(name, help=text, description=text + ".")
        sub.add_argument("--source", choices=sorted(SOURCES), default=None,
                         help="brightsky (DWD open data, the default; BAUHOF_WEATHER_SOURCE) "
                              "or open-meteo")
        sub.add_argument("--base-url", metavar="URL", default=None,
                         help="the service's base URL (BAUHOF_WEATHER_URL; default the public "
                              "service)")
        sub.add_argument("--lat", type=_latitude, help="latitude (default: the town's assets)")
        sub.add_argument("--lon", type=_longitude, help="longitude (with --lat)")
        sub.add_argument("--days", type=_days, default=2,
                         help="past days to fetch besides the forecast (default 2)")
        sub.add_argument("--attempts", type=_attempts, default=4,
                         help="attempts per fetch, with exponential backoff (default 4)")
        if name == "fetch":
            sub.add_argument("--json", action="store_true", help="print one JSON object")
        else:
            sub.add_argument("--every", type=_every, default=3600.0, metavar="INTERVAL",
                             help="how often: 1h, 30m, 900s (default 1h)")


def _bounded(text: str, what: str, low: float, high: float) -> float:
    value = argument_type(float, f"a {what}")(text)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{what} {text} is not between {low:g} and {high:g}")
    return value


def _latitude(text: str) -> float:
    return _bounded(text, "latitude", -90, 90)


def _longitude(text: str) -> float:
    return _bounded(text, "longitude", -180, 180)


def _days(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 92:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 0 to 92")
    return int(text)


def _attempts(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of attempts from 1 to 10")
    return int(text)


def _every(text: str) -> float:
    match = _EVERY.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not an interval (1h, 30m, 900s)")
    seconds = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    if seconds < 60:
        raise argparse.ArgumentTypeError(f"{text!r}: at least a minute between fetches")
    return seconds


def cmd_weather(args: argparse.Namespace) -> int:
    """Fetch the town's hourly weather (observations and a 48-hour forecast) into table weather:
    once (fetch) or every --every (run). Failures are retried with backoff; nothing is stored
    half."""
    from bauhof import db, settings
    from ingest.weather import WeatherError, feed

    if (args.lat is None) != (args.lon is None):
        return fail("weather", "give --lat and --lon together", 2)
    cfg = settings.load()
    source = args.source or cfg.weather_source
    base_url = args.base_url or cfg.weather_url
    with db.connect(cfg.database_url, autocommit=True, application_name="bauhof-weather") as conn:
        if args.lat is not None:
            lat, lon = args.lat, args.lon
        else:
            found = feed.town_location(conn)
            if found is None:
                raise CommandError("no green areas or bins to take the town's location from: "
                                   "load the assets (`bauhof assets load`) or pass --lat/--lon")
            lat, lon = found
        if args.weather_action == "fetch":
            try:
                stored = feed.fetch(conn, source, lat=lat, lon=lon, days=args.days,
                                    base_url=base_url, attempts=args.attempts)
            except WeatherError as exc:
                raise CommandError(str(exc)) from exc
            if args.json:
                print(json.dumps(stored.as_json()))
            else:
                print(_summary(stored))
            return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        # A connection per round: a database restart between rounds costs nothing.
        try:
            with db.connect(cfg.database_url, autocommit=True,
                            application_name="bauhof-weather") as conn:
                stored = feed.fetch(conn, source, lat=lat, lon=lon, days=args.days,
                                    base_url=base_url, attempts=args.attempts, sleep=stop.wait)
            log.info("%s", _summary(stored))
        except WeatherError as exc:
            # The next round tries again; the rules keep the rows already stored.
            log.error("%s", exc)
        except (db.DatabaseError, psycopg.Error) as exc:
            log.error("weather %s: database: %s; trying again in %g s", source, exc, args.every)
        stop.wait(args.every)
    return 0


def _summary(s: Any) -> str:
    span = f"{s.first:%Y-%m-%d %H:%M} to {s.last:%Y-%m-%d %H:%M} UTC" if s.first else "no hours"
    return (f"weather {s.source} ({s.station}): {s.stored} rows stored ({s.observed} observed, "
            f"{s.forecast} forecast), {span}, {s.rain_mm:.1f} mm rain")
