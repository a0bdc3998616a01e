"""Virtual time: integer microseconds since the Unix epoch, paced against the wall clock.

Simulated time is an `int` of microseconds everywhere, so arithmetic and formatting are exact
and a run never depends on floating-point rounding. The wall clock only sets the pace:
`speed` simulated seconds per wall second, or none at all for `--speed max`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from simulator import SimulatorError

US = 1_000_000
MINUTE_US = 60 * US
HOUR_US = 3600 * US
DAY_US = 86400 * US
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ClockError(SimulatorError):
    """A time or speed argument that cannot be used."""


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (naive counts as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def from_us(t_us: int) -> datetime:
    """The UTC datetime of a virtual time."""
    return EPOCH + timedelta(microseconds=t_us)


def iso(t_us: int) -> str:
    """RFC 3339 with microseconds and `+00:00`, as ChirpStack writes times (what
    `from_us(t_us).isoformat(timespec="microseconds")` writes, without a datetime: three of
    these per simulated uplink)."""
    minute, rest = divmod(t_us, MINUTE_US)
    seconds, micros = divmod(rest, US)
    return f"{_minute(minute)}{seconds:02d}.{micros:06d}+00:00"


@lru_cache(maxsize=256)
def _minute(minute: int) -> str:
    """`YYYY-MM-DDTHH:MM:` of a minute counted from the epoch (a town's uplinks come several a
    minute: most fall in a minute written before)."""
    moment = EPOCH + timedelta(minutes=minute)
    return f"{moment.date().isoformat()}T{moment.hour:02d}:{moment.minute:02d}:"


def parse_time(text: str, flag: str = "--start") -> datetime:
    """Parse a time option (`--start`, named by `flag` in errors): an ISO 8601 date or
    date-time (UTC unless it says otherwise), or `now`."""
    if text == "now":
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"{flag} {text!r}: expected ISO 8601 like 2026-06-01T06:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_speed(text: str) -> float | None:
    """Parse `--speed`: simulated seconds per wall second, or `max` (None: no pacing)."""
    if text == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ClockError(f"--speed {text!r}: a number (3600 = an hour per second) or max") from None
    if not speed > 0:
        raise ClockError(f"--speed {text!r}: must be greater than 0")
    return speed


class VirtualClock:
    """Holds publication back until the wall clock has caught up with virtual time.

    Without a `start_us` the first time waited for becomes the start (replays).
    """

    def __init__(
        self,
        start_us: int | None,
        speed: float | None,
        monotonic: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
    ) -> None:
        self.start_us = start_us
        self.speed = speed
        self._monotonic = monotonic
        self._stop = stop or threading.Event()
        self._wall0: float | None = None

    def wall_delay(self, t_us: int) -> float:
        """Seconds to wait before virtual time `t_us` is due (0 when at max speed or late)."""
        if self.speed is None:
            return 0.0
        now = self._monotonic()
        if self._wall0 is None or self.start_us is None:
            self._wall0 = now
            self.start_us = t_us if self.start_us is None else self.start_us
        due = self._wall0 + (t_us - self.start_us) / US / self.speed
        return max(0.0, due - now)

    def wait_until(self, t_us: int) -> bool:
        """Block until `t_us` is due; False when stopped meanwhile (Ctrl-C, `stop()`)."""
        delay = self.wall_delay(t_us)
        if delay > 0:
            return not self._stop.wait(delay)
        return not self._stop.is_set()

    def stop(self) -> None:
        """Wake any waiter and make later waits return False."""
        self._stop.set()


class TownTime:
    """Local time of the town (weekdays, working hours), cached per hour for speed."""

    def __init__(self, timezone: str) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ClockError(f"town.timezone {timezone!r}: not a known time zone") from None
        self._hours: dict[int, tuple[int, int]] = {}

    def weekday_hour(self, t_us: int) -> tuple[int, int]:
        """(weekday 0 = Monday, local hour 0..23) at `t_us`."""
        index = t_us // HOUR_US
        found = self._hours.get(index)
        if found is None:
            local = from_us(index * HOUR_US).astimezone(self.zone)
            found = self._hours[index] = (local.weekday(), local.hour)
        return found

    def local_midnight_us(self, t_us: int) -> int:
        """Virtual time of the local midnight that starts the day containing `t_us`."""
        local = from_us(t_us).astimezone(self.zone)
        return to_us(local.replace(hour=0, minute=0, second=0, microsecond=0))

    def at_local(self, day_us: int, hours: float) -> int:
        """Virtual time `hours` (e.g. 6.5) after local midnight of the day starting at `day_us`."""
        local = from_us(day_us).astimezone(self.zone)
        whole = int(hours)
        minutes = round((hours - whole) * 60)
        return to_us(local.replace(hour=whole, minute=minutes, second=0, microsecond=0))
