"""Hourly weather: the documented formulas, fixed showers, forecasts, determinism."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from simulator.clock import HOUR_US, to_us
from simulator.scenario import RainEvent, WeatherConfig
from simulator.weather import Weather, seasonal_mean_c, solar_hour, sunshine

START = to_us(datetime(2026, 6, 1, tzinfo=UTC))


def test_solar_time_and_sunshine() -> None:
    assert solar_hour(START + 11 * HOUR_US, 15.0) == pytest.approx(12.5)
    assert sunshine(12.0, raining=False) == pytest.approx(1.0)
    assert sunshine(12.0, raining=True) == pytest.approx(0.3)
    assert sunshine(3.0, raining=False) == 0.0


def test_the_seasonal_mean_is_coldest_on_20_january() -> None:
    config = WeatherConfig(mean_temperature_c=9.0, seasonal_amplitude_c=9.0)
    assert seasonal_mean_c(config, to_us(datetime(2026, 1, 20, tzinfo=UTC))) == pytest.approx(0)
    july = seasonal_mean_c(config, to_us(datetime(2026, 7, 21, tzinfo=UTC)))
    assert july == pytest.approx(18.0, abs=0.01)


def test_a_fixed_shower_rains_exactly_then_and_is_forecast() -> None:
    shower = RainEvent(start=datetime(2026, 6, 1, 20, tzinfo=UTC), hours=2, mm_h=3.5)
    weather = Weather(WeatherConfig(rain_start_probability=0, rain_events=[shower]), 1, 8.87,
                      START)
    assert [weather.hour(h).rain_mm_h for h in range(18, 24)] == [0, 0, 3.5, 3.5, 0, 0]
    assert weather.hour(0).forecast_rain_mm_24h > 0
    assert weather.hour(22).forecast_rain_mm_24h == 0


def test_the_published_observation() -> None:
    weather = Weather(WeatherConfig(station="herrenberg"), 1, 8.87, START)
    hour = weather.at(START + 90 * 60 * 10**6)
    body = json.loads(hour.message())
    assert body == {"time": "2026-06-01T01:00:00+00:00", "rain_mm_h": hour.rain_mm_h,
                    "temperature_c": hour.temperature_c,
                    "forecast_rain_mm_24h": hour.forecast_rain_mm_24h}


def test_the_same_seed_gives_the_same_weather_and_another_differs() -> None:
    def month(seed: int) -> list[tuple[float, float]]:
        weather = Weather(WeatherConfig(), seed, 8.87, START)
        return [(weather.hour(h).temperature_c, weather.hour(h).rain_mm_h) for h in range(720)]

    assert month(1) == month(1)
    assert month(1) != month(2)
    rainy_hours = sum(1 for _, rain in month(1) if rain > 0)
    assert 20 < rainy_hours < 200
