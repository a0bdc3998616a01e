"""The water balance on exact inputs: FAO-56 radiation, depletion hour by hour, waterings,
order sizes in litres, and the sensor-less fallback as a pure rule."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bauhof.assignee import Assignee
from rules import ruleset, water_balance, watering
from rules.actions import Open, Resolve
from rules.assets import Weather
from rules.water_balance import WeatherHour, balance, dose
from rules.watering import WateringState
from tests.rules.factory import at
from tests.rules.pure import AREA, SPONSORED, no_weather, reading

P = ruleset.load().watering_for("ga1", "lawn")
LAWN = dataclasses.replace(AREA, plant_type="lawn", size_m2=100.0)


def hours(n: int, et0: float = 0.25, rain: float = 0.0, start: float = 0) -> list[WeatherHour]:
    return [WeatherHour(at(start + h), rain, 20.0, et0) for h in range(n)]


def test_extraterrestrial_radiation_matches_fao56_example_8() -> None:
    # FAO-56 example 8: 20° S on 3 September (day 246): Ra = 32.2 MJ m-2 day-1.
    assert water_balance.extraterrestrial_radiation_mm(-20.0, 246) == pytest.approx(
        0.408 * 32.2, abs=0.03)


def test_hargreaves_is_used_when_the_source_has_no_et0() -> None:
    day = [WeatherHour(at(h), 0.0, 12.0 + 16.0 * h / 23, None) for h in range(24)]
    et0, source = water_balance.et0_per_hour(day, 48.6)
    expected = water_balance.hargreaves_mm_day(12.0, 28.0, 20.0, 48.6, 152) / 24
    assert source == "hargreaves"
    assert et0 == [pytest.approx(expected)] * 24
    # Early June at 48.6° N, 12-28 °C: about 6 mm a day, as FAO-56 expects of a hot day.
    assert 5.5 < sum(et0) < 6.5


def test_a_lawn_needs_water_once_half_its_available_water_is_gone() -> None:
    # Lawn: TAW 22 % of 100 mm = 22 mm, trigger 11 mm; k_c 0.9 x 0.25 mm/h = 0.225 mm/h.
    b = balance(hours(48), 52.0, "lawn", [], at(48))
    assert (b.deficit_mm, b.capacity_mm, b.trigger_mm, b.needs_water) == (10.8, 22.0, 11.0,
                                                                           False)
    b = balance(hours(49), 52.0, "lawn", [], at(49))
    assert (b.deficit_mm, b.needs_water, b.et_mm, b.rain_mm) == (11.0, True, 11.0, 0.0)
    # Past the trigger the plants draw less (K_s = (22 - D) / 11).
    b = balance(hours(50), 52.0, "lawn", [], at(50))
    assert b.deficit_mm == round(11.025 + 0.225 * (22 - 11.025) / 11, 1)


def test_rain_and_waterings_refill_the_root_zone() -> None:
    dry = hours(48)
    wet = [WeatherHour(at(48 + h), 2.0, 15.0, 0.05) for h in range(3)]
    b = balance(dry + wet, 52.0, "lawn", [], at(51))
    # 10.8 mm short, then three hours of 2 mm rain, 90 % of it reaching the soil.
    assert b.deficit_mm == round(10.8 + 3 * (0.045 - 1.8), 1) == 5.5
    assert b.rain_mm == 6.0
    watered = balance(dry, 52.0, "lawn", [(at(47.5), 20.0)], at(48))
    assert (watered.deficit_mm, watered.watered_mm) == (0.0, 20.0)


def test_order_sizes_in_litres_per_square_metre_and_per_young_tree() -> None:
    lawn = dose(12.34, "lawn", 50.0, None)
    assert (lawn.litres, lawn.litres_per_m2, lawn.litres_per_tree) == (620, 12.3, None)
    assert lawn.text() == "620 l (12.3 l/m²)"
    assert lawn.params() == {"litres": 620, "litres_per_m2": 12.3}
    trees = dose(40.0, "young_tree", None, 3)
    assert (trees.litres, trees.litres_per_tree, trees.trees) == (480, 160, 3)
    assert trees.text() == "480 l (3 trees x 160 l)"
    # Within the 100-200 l a week guidance for a young tree.
    assert dose(10.0, "young_tree", None, None).litres == 100
    assert dose(80.0, "young_tree", None, 2).litres == 400
    unknown = dose(8.0, "lawn", None, None)
    assert (unknown.litres, unknown.text(), unknown.params()) == (0, "8 l/m²",
                                                                 {"litres_per_m2": 8.0})


def test_a_probe_order_says_how_many_litres_bring_the_soil_back_to_field_capacity() -> None:
    state = WateringState()
    out: list[Any] = []
    for h in range(7):
        out += watering.on_reading(state, reading(h, soil_moisture_pct=14.0), LAWN, P,
                                   no_weather)
    (opened,) = out
    assert isinstance(opened, Open)
    # (32 - 14) % of a lawn's 100 mm root zone = 18 mm = 18 l/m², on 100 m².
    assert opened.title == ("Water Rose garden: soil moisture 14 % since 2026-06-01 00:00; "
                            "give 1800 l (18 l/m²)")
    assert (opened.params["litres"], opened.params["litres_per_m2"]) == (1800, 18.0)


def _need(deficit: float = 12.0) -> water_balance.Balance:
    return water_balance.Balance(at(30), 0.0, 14.0, 0.0, deficit, 22.0, 11.0, "source")


def test_a_silent_probes_area_is_watered_by_its_balance() -> None:
    state = WateringState()
    area = dataclasses.replace(SPONSORED, plant_type="lawn", size_m2=40.0)
    # A probe reporting (or silent for less than 6 h): the balance does not decide.
    assert watering.on_balance(state, at(30), area, P, balance=_need(), silent_h=None,
                               weather=no_weather) == []
    assert watering.on_balance(state, at(30), area, P, balance=_need(), silent_h=5.9,
                               weather=no_weather) == []
    assert watering.on_balance(state, at(30), area, P, balance=_need(10.9), silent_h=8,
                               weather=no_weather) == []
    (opened,) = watering.on_balance(state, at(30), area, P, balance=_need(), silent_h=8,
                                    weather=no_weather)
    assert isinstance(opened, Open)
    assert opened.title == ("Water Rose garden: no soil reading for 8 h, water balance 12 mm "
                            "short; give 480 l (12 l/m²)")
    assert opened.assignee == Assignee("sponsor", "sp1") and opened.value is None
    assert {k: opened.params[k] for k in ("source", "deficit_mm", "litres", "litres_per_m2")} \
        == {"source": "water_balance", "deficit_mm": 12.0, "litres": 480, "litres_per_m2": 12.0}
    assert opened.evidence[0]["name"] == "water_balance_deficit_mm"
    # The sponsor is asked with the balance's own mail: no moisture, the litres to give.
    assert [(m.template, m.context["litres"], m.context["deficit"]) for m in opened.mail] == [
        ("watering_request_balance", "480 l (12 l/m²)", "12")]
    # Open already: nothing more until rain has refilled half the trigger.
    assert watering.on_balance(state, at(31), area, P, balance=_need(6.0), silent_h=9,
                               weather=no_weather) == []
    (resolved,) = watering.on_balance(state, at(32), area, P, balance=_need(5.5), silent_h=10,
                                      weather=no_weather)
    assert isinstance(resolved, Resolve) and resolved.by == "rain"
    assert state == WateringState()


def test_a_forecast_of_rain_holds_the_balance_order_too() -> None:
    state = WateringState()

    def rainy(_at: object) -> Weather:
        return Weather(at(30), 0.0, 6.4)

    assert watering.on_balance(state, at(30), LAWN, P, balance=_need(), silent_h=8,
                               weather=rainy) == []
    assert state.held == "6.4 mm rain forecast in 24 h"
