"""Soil moisture: evaporation dries it, rain and watering wet it, with the documented formulas."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from simulator.clock import HOUR_US, to_us
from simulator.scenario import RainEvent, WeatherConfig
from simulator.soil import PLANTS, Soil, evaporation_factor, potential_et_mm_h, step, stress
from simulator.weather import Weather

LAWN = PLANTS["lawn"]
START = to_us(datetime(2026, 7, 1, tzinfo=UTC))
BELOW_FROM_DAY = 19


def test_potential_evaporation_at_stated_inputs() -> None:
    assert potential_et_mm_h(25.0, 1.0) == pytest.approx(0.35)
    assert potential_et_mm_h(25.0, 0.0) == pytest.approx(0.035)
    assert potential_et_mm_h(-3.0, 1.0) == 0.0


def test_stress_is_linear_between_wilting_point_and_field_capacity() -> None:
    assert stress(10.0, LAWN) == 0.0
    assert stress(21.0, LAWN) == pytest.approx(0.5)
    assert stress(40.0, LAWN) == 1.0


def test_one_sunny_hour_dries_a_lawn_by_the_formula() -> None:
    # ET = 1.0 · 0.35 · (30 - 10)/(32 - 10) mm; a 100 mm root zone loses ET percentage points.
    after = step(30.0, LAWN, hours=1, rain_mm_h=0, temperature_c=25, sun=1)
    assert after == pytest.approx(30 - 0.35 * 20 / 22)


def test_bare_soil_keeps_evaporating_below_the_wilting_point_until_air_dry() -> None:
    # Near the wilting point the plants draw little (1.0 · 0.5/22), the bare soil 0.1 of PET;
    # below it only the soil, falling linearly to nothing at air-dry (5 %).
    assert evaporation_factor(30.0, LAWN) == pytest.approx(20 / 22)
    assert evaporation_factor(10.5, LAWN) == pytest.approx(0.1)
    assert evaporation_factor(9.0, LAWN) == pytest.approx(0.08)
    assert evaporation_factor(5.0, LAWN) == 0.0
    assert step(10.5, LAWN, hours=1, rain_mm_h=0, temperature_c=25, sun=1) == pytest.approx(
        10.5 - 0.035)
    assert step(9.0, LAWN, hours=1, rain_mm_h=0, temperature_c=25, sun=1) == pytest.approx(
        9.0 - 0.028)
    assert step(5.0, LAWN, hours=1, rain_mm_h=0, temperature_c=25, sun=1) == 5.0


def test_rain_wets_the_soil_by_the_share_that_reaches_it() -> None:
    # 0.9 · 2 mm of rain minus ET 0.35·0.1·10/25 · 10/22 mm, over 100 mm.
    after = step(20.0, LAWN, hours=1, rain_mm_h=2, temperature_c=10, sun=0)
    assert after == pytest.approx(20 + 1.8 - 0.014 * 10 / 22)


def test_water_above_field_capacity_drains_in_about_twelve_hours() -> None:
    after = step(40.0, LAWN, hours=1, rain_mm_h=0, temperature_c=0, sun=0)
    assert after == pytest.approx(40 - 8 / 12)


def test_watering_adds_millimetres_over_the_root_depth() -> None:
    soil = Soil(PLANTS["trees"], 15.0, 12.0, START)
    soil.water(10.0)
    assert soil.moisture_pct == pytest.approx(17.5)
    soil.water(1000.0)
    assert soil.moisture_pct == PLANTS["trees"].saturation_pct


def _weather(**config: object) -> Weather:
    return Weather(WeatherConfig.model_validate(config), seed=3, longitude=8.87, start_us=START)


def _dry_days(soil: Soil, mean_temperature_c: float, days: int) -> list[float]:
    """The soil's moisture at the end of each of `days` days without rain or water."""
    weather = _weather(rain_start_probability=0.0, mean_temperature_c=mean_temperature_c)
    moisture = []
    for day in range(1, days + 1):
        soil.advance(START + day * 24 * HOUR_US, weather)
        moisture.append(soil.moisture_pct)
    return moisture


def test_moisture_falls_day_after_day_without_water() -> None:
    daily = _dry_days(Soil(LAWN, 30.0, 15.0, START), 18.0, 5)
    assert all(later < earlier for earlier, later in zip([30.0, *daily], daily, strict=False))
    assert 15.0 < daily[-1] < 27.0


def test_weeks_of_heat_without_rain_dry_a_lawn_below_its_wilting_point() -> None:
    soil = Soil(LAWN, 25.0, 20.0, START)
    below = [moisture < LAWN.wilting_point_pct for moisture in _dry_days(soil, 15.0, 28)]
    # Transpiration alone would only approach 10 %; the bare soil takes it below in week 3.
    assert below.index(True) == BELOW_FROM_DAY - 1
    assert all(below[BELOW_FROM_DAY - 1:])
    assert 5.0 < soil.moisture_pct < 10.0


def test_moisture_rises_when_it_rains() -> None:
    shower = RainEvent(start=datetime(2026, 7, 1, 12, tzinfo=UTC), hours=3, mm_h=4.0)
    weather = _weather(rain_start_probability=0.0, rain_events=[shower])
    soil = Soil(LAWN, 18.0, 15.0, START)
    soil.advance(START + 12 * HOUR_US, weather)
    before = soil.moisture_pct
    soil.advance(START + 15 * HOUR_US, weather)
    # 3 h x 4 mm x 0.9 = 10.8 mm onto 100 mm, less a little evaporation.
    assert soil.moisture_pct - before == pytest.approx(10.8, abs=0.3)


def test_reading_the_state_more_often_does_not_change_it() -> None:
    weather = _weather(rain_start_probability=0.05)
    often = Soil(LAWN, 25.0, 15.0, START)
    rarely = Soil(LAWN, 25.0, 15.0, START)
    for minute in range(0, 48 * 60, 7):
        often.advance(START + minute * 60 * 10**6, weather)
    often.advance(START + 48 * HOUR_US, weather)
    rarely.advance(START + 48 * HOUR_US, weather)
    assert often.moisture_pct == rarely.moisture_pct
