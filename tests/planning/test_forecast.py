"""Forecasts from stated readings, with exact expected values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from planning import forecast as fc

MONDAY = datetime(2026, 6, 1, tzinfo=UTC)


def hourly(start: datetime, values: list[float]) -> list[tuple[float, float]]:
    """Readings one hour apart from start."""
    return [((start + timedelta(hours=i)).timestamp(), v) for i, v in enumerate(values)]


def seconds_between(a: datetime | None, b: datetime) -> int:
    """Whole seconds from b to a."""
    assert a is not None
    return round((a - b).total_seconds())


def test_linear_fill_gives_rate_level_and_crossing_times() -> None:
    points = hourly(MONDAY, [10 + 2 * h for h in range(11)])
    as_of = MONDAY + timedelta(hours=10)
    f = fc.forecast("bin-1", points, as_of, 80.0)
    assert (f.fill_pct, f.rate_pct_h, f.method, f.readings) == (30.0, 2.0, "trend", 11)
    assert f.curve[:4] == (30.0, 32.0, 34.0, 36.0)
    assert len(f.curve) == 169
    assert seconds_between(f.threshold_at, as_of) == 25 * 3600
    assert seconds_between(f.full_at, as_of) == 35 * 3600
    assert f.fill_at(as_of + timedelta(minutes=90)) == 33.0
    assert f.last_reading_at == as_of


def test_one_bad_echo_does_not_move_the_trend() -> None:
    values = [10 + 2 * h for h in range(11)]
    values[5] = 95.0
    f = fc.forecast("bin-1", hourly(MONDAY, values), MONDAY + timedelta(hours=10), 80.0)
    assert (f.fill_pct, f.rate_pct_h) == (30.0, 2.0)


def test_emptying_starts_a_new_cycle() -> None:
    before = [10 + 5 * h for h in range(11)]
    after = [2 + 3 * h for h in range(6)]
    points = hourly(MONDAY, before + after)
    as_of = MONDAY + timedelta(hours=16)
    f = fc.forecast("bin-1", points, as_of, 80.0)
    assert (f.fill_pct, f.rate_pct_h, f.readings) == (17.0, 3.0, 6)
    assert [len(c) for c in fc.cycles(points)] == [11, 6]


def test_forecast_runs_on_to_as_of_at_the_trend_rate() -> None:
    points = hourly(MONDAY, [10 + 2 * h for h in range(11)])
    f = fc.forecast("bin-1", points, MONDAY + timedelta(hours=13), 80.0)
    assert f.fill_pct == 36.0


def test_weekday_profile_from_earlier_cycles_scales_the_forecast() -> None:
    saturday = MONDAY + timedelta(days=5)
    # An earlier cycle: 1 %/h on Saturday, 2 %/h on Sunday (a park at the weekend).
    weekend = [float(h) for h in range(25)] + [24.0 + 2 * h for h in range(1, 25)]
    friday_noon = MONDAY + timedelta(days=11, hours=12)
    current = [1.5 * h for h in range(11)]
    points = hourly(saturday, weekend) + hourly(friday_noon, current)
    as_of = friday_noon + timedelta(hours=10)
    f = fc.forecast("bin-1", points, as_of, 80.0)
    assert (f.fill_pct, f.rate_pct_h, f.method) == (15.0, 1.5, "trend")
    saturday_2 = MONDAY + timedelta(days=12)
    # Friday 1.5 %/h to midnight, Saturday 1 %/h, Sunday 2 %/h, Monday 1.5 %/h again.
    assert f.fill_at(saturday_2) == 18.0
    assert f.fill_at(saturday_2 + timedelta(days=1)) == 42.0
    assert f.fill_at(saturday_2 + timedelta(days=2)) == 90.0
    assert seconds_between(f.threshold_at, saturday_2 + timedelta(days=1, hours=19)) == 0
    assert seconds_between(f.full_at, saturday_2 + timedelta(days=2, hours=6, minutes=40)) == 0


def test_short_cycle_borrows_the_rate_of_earlier_ones() -> None:
    before = [10 + 5 * h for h in range(11)]
    points = hourly(MONDAY, [*before, 2.0, 4.0])
    f = fc.forecast("bin-1", points, MONDAY + timedelta(hours=12), 80.0)
    assert (f.method, f.rate_pct_h, f.fill_pct, f.readings) == ("history", 5.0, 3.0, 2)


def test_no_readings_means_no_forecast() -> None:
    f = fc.forecast("bin-1", [], MONDAY, 80.0)
    assert (f.method, f.fill_pct, f.rate_pct_h, f.threshold_at, f.full_at) == (
        "none", 0.0, 0.0, None, None)


def test_crossing_interpolates_between_hours() -> None:
    assert fc.crossing((10.0, 20.0, 30.0), 25.0) == 1.5
    assert fc.crossing((10.0, 20.0), 50.0) is None
    assert fc.crossing((90.0, 95.0), 80.0) == 0.0
