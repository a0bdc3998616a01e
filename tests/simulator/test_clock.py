"""Virtual time: exact conversions, parsing, and pacing against an injected wall clock."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime

import pytest

from simulator.clock import (
    DAY_US,
    US,
    ClockError,
    TownTime,
    VirtualClock,
    from_us,
    iso,
    parse_speed,
    parse_time,
    to_us,
)


def test_conversions_are_exact_to_the_microsecond() -> None:
    moment = datetime(2026, 6, 1, 12, 44, 52, 653481, tzinfo=UTC)
    assert to_us(moment) == 1_780_317_892_653_481
    assert from_us(to_us(moment)) == moment
    assert iso(to_us(moment)) == "2026-06-01T12:44:52.653481+00:00"


def test_parsing_start_and_speed() -> None:
    assert parse_time("2026-06-01T06:00") == datetime(2026, 6, 1, 6, tzinfo=UTC)
    assert parse_time("2026-06-01T06:00+02:00") == datetime(2026, 6, 1, 4, tzinfo=UTC)
    assert parse_speed("max") is None
    assert parse_speed("3600") == 3600.0
    with pytest.raises(ClockError, match="a number"):
        parse_speed("fast")
    with pytest.raises(ClockError, match="greater than 0"):
        parse_speed("0")
    with pytest.raises(ClockError, match="ISO 8601"):
        parse_time("yesterday")


class FakeWall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_clock_paces_virtual_time_by_the_speed() -> None:
    wall = FakeWall()
    clock = VirtualClock(0, 3600.0, monotonic=wall)
    assert clock.wall_delay(0) == 0.0
    assert clock.wall_delay(7200 * US) == pytest.approx(2.0)
    wall.now += 1.5
    assert clock.wall_delay(7200 * US) == pytest.approx(0.5)
    wall.now += 10
    assert clock.wall_delay(7200 * US) == 0.0


def test_max_speed_never_waits_and_a_replay_starts_at_its_first_message() -> None:
    assert VirtualClock(0, None).wall_delay(10**15) == 0.0
    wall = FakeWall()
    clock = VirtualClock(None, 60.0, monotonic=wall)
    assert clock.wall_delay(5_000 * US) == 0.0
    assert clock.wall_delay(5_060 * US) == pytest.approx(1.0)


def test_stopping_wakes_a_waiter() -> None:
    stop = threading.Event()
    clock = VirtualClock(0, 1.0, stop=stop)
    clock.stop()
    assert clock.wait_until(3600 * US) is False


def test_town_time_knows_local_weekdays_and_hours() -> None:
    berlin = TownTime("Europe/Berlin")
    summer = to_us(datetime(2026, 6, 6, 8, 30, tzinfo=UTC))  # Saturday 10:30 CEST
    assert berlin.weekday_hour(summer) == (5, 10)
    midnight = berlin.local_midnight_us(summer)
    assert iso(midnight) == "2026-06-05T22:00:00.000000+00:00"
    assert iso(berlin.at_local(midnight, 6.5)) == "2026-06-06T04:30:00.000000+00:00"
    with pytest.raises(ClockError, match="not a known time zone"):
        TownTime("Mars/Olympus")


def test_iso_writes_what_datetime_writes() -> None:
    rng = random.Random(3)
    first, last = to_us(datetime(1, 1, 1, tzinfo=UTC)), to_us(datetime(9999, 12, 31, tzinfo=UTC))
    times = [rng.randrange(first, last) for _ in range(20_000)]
    for t_us in [*times, first, last, 0, -1, 1, DAY_US - 1, 1_780_288_200_000_000]:
        assert iso(t_us) == from_us(t_us).isoformat(timespec="microseconds")
    assert iso(1_780_288_200_000_001) == "2026-06-01T04:30:00.000001+00:00"
