"""Theil-Sen fit and the weekday-aware forecast."""

from __future__ import annotations

import random
import statistics

from rules import fill_forecast as ff
from tests.rules.factory import at

H = 3600.0


def test_theil_sen_ignores_an_outlier() -> None:
    ts = [i * H for i in range(9)]
    ys = [10.0 + 2 * i for i in range(9)]
    ys[4] = 95.0  # one bad echo
    slope, intercept = ff.theil_sen(ts, ys)
    assert round(slope * H, 6) == 2.0
    assert round(intercept, 6) == 10.0


def test_full_at_extrapolates_the_trend() -> None:
    points = [[at(h).timestamp(), 20.0 + 4 * h] for h in range(5)]  # 36 % at 04:00
    assert ff.full_at(points, at(100).timestamp()) == at(20).timestamp()
    assert ff.full_at(points, at(19).timestamp()) is None


def test_full_at_needs_enough_points_and_span() -> None:
    points = [[at(h).timestamp(), 20.0 + 4 * h] for h in range(3)]
    assert ff.full_at(points, at(100).timestamp()) is None
    close = [[at(h / 10).timestamp(), 20.0 + h] for h in range(6)]
    assert ff.full_at(close, at(100).timestamp()) is None


def test_weekday_profile_scales_the_forecast() -> None:
    # Learned: Mondays fill twice as fast as Tuesdays (3 vs 1.5 points an hour).
    profile: list[float | None] = [3.0, 1.5, None, None, None, None, None]
    assert ff.factors(profile) == [4 / 3, 2 / 3, 1.0, 1.0, 1.0, 1.0, 1.0]
    # Trend 2 points/h from 50 % at 12:00 Monday. Monday (factor 4/3): 8/3 an hour for 12 h
    # → 82 % at midnight; Tuesday (2/3): 4/3 an hour, 18 points more → 13.5 h.
    points = [[at(h).timestamp(), 50.0 - 2 * (12 - h)] for h in range(9, 13)]
    full = ff.full_at(points, at(200).timestamp(), profile=profile)
    assert full is not None
    assert round((full - at(12).timestamp()) / H, 6) == 12 + 13.5
    # Without the profile the same trend fills in 25 h.
    plain = ff.full_at(points, at(200).timestamp())
    assert plain is not None and round((plain - at(12).timestamp()) / H, 6) == 25.0


def test_weekday_rates_and_blend() -> None:
    points = [[at(h).timestamp(), 2.0 * h] for h in range(4)] + [
        [at(24 + h).timestamp(), 10.0 + h] for h in range(3)]
    rates = ff.weekday_rates(points)
    assert rates == [2.0, 1.0, None, None, None, None, None]
    assert ff.blend([4.0, None, None, None, None, None, 1.0], rates) == [
        3.0, 1.0, None, None, None, None, 1.0]


def _theil_sen_reference(ts: list[float], ys: list[float]) -> tuple[float, float]:
    """The fit written out in plain Python (every pair with a later time, statistics.median)."""
    n = len(ts)
    slopes = [(ys[j] - ys[i]) / (ts[j] - ts[i])
              for i in range(n) for j in range(i + 1, n) if ts[j] > ts[i]]
    if not slopes:
        return 0.0, statistics.median(ys) if ys else 0.0
    slope = statistics.median(slopes)
    return slope, statistics.median([y - slope * t for t, y in zip(ts, ys, strict=True)])


def test_theil_sen_equals_the_plain_python_fit_exactly() -> None:
    # The numpy fit (index pairs, medians by partition) gives the same floats, bit for bit,
    # as the pairwise definition: on bins' readings (increasing times, fills rounded to 0.01)
    # and on times with repeats and disorder (the masked path).
    rng = random.Random(20)
    for case in range(300):
        n = rng.randint(2, 96)
        start = 1_780_000_000.0 + rng.randint(0, 10**6)
        if case % 3:
            ts = sorted(start + rng.uniform(0, 7 * 86400) for _ in range(n))
        else:
            ts = [start + rng.choice((0, 900, 1800, 3600)) for _ in range(n)]
        ys = [round(rng.uniform(0, 100), 2) for _ in range(n)]
        assert ff.theil_sen(ts, ys) == _theil_sen_reference(ts, ys), case
