"""Bins fill by type, place, weekday and hour, and drop to near empty when emptied."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from simulator import bins
from simulator.clock import HOUR_US, TownTime, to_us

BERLIN = TownTime("Europe/Berlin")
# Saturday 6 June 2026, 10:00 in Herrenberg (08:00 UTC).
SATURDAY_10 = to_us(datetime(2026, 6, 6, 8, tzinfo=UTC))


class NoNoise(random.Random):
    """A stream whose Gaussian draws make the hourly noise factor exactly 1."""

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return bins.NOISE_SIGMA**2 / 2


def test_hourly_rate_at_stated_inputs() -> None:
    # 0.11 per day x Saturday 1.35 x centre 1.0 x daytime weight 1 / 15.5 weight-hours a day.
    assert bins.hourly_rate("residual", 5, 10, 1.0) == pytest.approx(0.11 * 1.35 / 15.5)
    assert bins.hourly_rate("glass", 1, 3, 1.6) == pytest.approx(0.05 * 1.6 * 0.15 / 15.5)


def test_centre_factor_falls_from_the_centre_outwards() -> None:
    assert bins.centre_factor(0) == pytest.approx(1.6)
    assert bins.centre_factor(600) == pytest.approx(0.7 + 0.9 / 2.718281828459045)
    assert bins.centre_factor(10_000) == pytest.approx(0.7, abs=1e-6)


def test_distance_follows_the_installed_geometry() -> None:
    assert bins.distance_mm(0.0, 1000, 200) == 1000
    assert bins.distance_mm(0.5, 1000, 200) == 600
    assert bins.distance_mm(1.0, 1000, 200) == 200
    assert bins.distance_mm(1.3, 1000, 200) == bins.MIN_DISTANCE_MM


def test_a_bin_fills_linearly_within_an_hour() -> None:
    fill = bins.BinFill("residual", centre=1.0, fill=0.2, start_us=SATURDAY_10, rng=NoNoise(1),
                        town_time=BERLIN)
    fill.advance(SATURDAY_10 + HOUR_US // 2)
    assert fill.fill == pytest.approx(0.2 + 0.11 * 1.35 / 15.5 / 2)
    fill.advance(SATURDAY_10 + HOUR_US)
    assert fill.fill == pytest.approx(0.2 + 0.11 * 1.35 / 15.5)


def test_a_full_bin_reports_when_it_overflowed_and_caps_at_the_pile_limit() -> None:
    fill = bins.BinFill("residual", centre=1.6, fill=0.999, start_us=SATURDAY_10,
                        rng=NoNoise(1), town_time=BERLIN)
    rate_per_us = 0.11 * 1.35 * 1.6 / 15.5 / HOUR_US
    overflow = fill.advance(SATURDAY_10 + HOUR_US)
    assert overflow == SATURDAY_10 + -(-0.001 // rate_per_us)
    assert fill.advance(SATURDAY_10 + 200 * HOUR_US) is None
    assert fill.fill == bins.MAX_FILL


def test_emptying_leaves_a_small_residue() -> None:
    fill = bins.BinFill("paper", centre=1.0, fill=0.9, start_us=SATURDAY_10,
                        rng=random.Random(5), town_time=BERLIN)
    assert fill.empty() == 0.9
    assert 0 <= fill.fill <= bins.RESIDUE


def test_a_week_fills_a_central_residual_bin_past_full() -> None:
    fill = bins.BinFill("residual", centre=1.6, fill=0.0, start_us=SATURDAY_10,
                        rng=random.Random(7), town_time=BERLIN)
    fill.advance(SATURDAY_10 + 7 * 24 * HOUR_US)
    assert 1.0 < fill.fill <= bins.MAX_FILL


def test_sensor_readings_are_whole_millimetres_within_range() -> None:
    rng = random.Random(1)
    readings = [bins.sensor_distance_mm(0.5, 1000, 200, rng) for _ in range(500)]
    assert all(isinstance(r, int) for r in readings)
    assert 590 < sum(readings) / len(readings) < 610
    assert max(readings) - min(readings) > 20
