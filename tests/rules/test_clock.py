"""The event-time clock."""

from __future__ import annotations

from rules.clock import EventClock
from rules.ruleset import ClockParams
from tests.rules.factory import at

WALL = at(10_000)


def test_follows_the_newest_reading_and_never_goes_back() -> None:
    clock = EventClock(ClockParams())
    assert clock.now(WALL) is None
    clock.observe([at(1), at(3), at(2)], WALL)
    assert clock.now(WALL) == at(3)
    clock.observe([at(2)], WALL)
    assert clock.now(WALL) == at(3)


def test_a_reading_far_in_the_future_does_not_move_it() -> None:
    clock = EventClock(ClockParams())
    wall = at(5)
    clock.observe([at(4)], wall)
    clock.observe([at(4.5), at(500)], wall)
    assert clock.now(wall) == at(4.5)
    assert (clock.ignored_future, clock.accepts(at(500)), clock.accepts(at(4.2))) == (
        1, False, True)


def test_live_stream_follows_the_wall_clock_when_idle() -> None:
    clock = EventClock(ClockParams())
    clock.observe([at(1)], at(1.01))
    assert clock.live
    assert clock.now(at(5)) == at(5)
    replay = EventClock(ClockParams())
    replay.observe([at(1)], at(100))
    assert not replay.live and replay.now(at(200)) == at(1)


def test_stream_mode_never_follows_the_wall() -> None:
    clock = EventClock(ClockParams(mode="stream"))
    clock.observe([at(1)], at(1))
    assert clock.now(at(5)) == at(1)
