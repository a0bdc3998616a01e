"""Plausibility: physically absurd readings give a reason each; real ones give none."""

from __future__ import annotations

from typing import Any

import pytest

from bauhof.codecs import decode
from bauhof.codecs.plausibility import check
from tests.bauhof.codecs import vectors


def test_the_example_from_the_brief() -> None:
    assert check({"soil_moisture_pct": 400.0}) == ["soil_moisture_pct 400.0 outside 0..100"]


@pytest.mark.parametrize(
    ("name", "inside", "outside", "reason"),
    [
        ("soil_moisture_pct", 100.0, 100.01, "soil_moisture_pct 100.01 outside 0..100"),
        ("soil_moisture_pct", 0.0, -0.5, "soil_moisture_pct -0.5 outside 0..100"),
        ("latitude", -90.0, -90.000001, "latitude -90.000001 outside -90..90"),
        ("longitude", 180.0, 180.5, "longitude 180.5 outside -180..180"),
        ("battery_pct", 100, 101, "battery_pct 101 outside 0..100"),
        ("battery_v", 5.0, 16.383, "battery_v 16.383 outside 0..5"),
        ("temperature_c", -60.0, -60.1, "temperature_c -60.1 outside -60..120"),
        ("temperature_c", 120.0, 3276.7, "temperature_c 3276.7 outside -60..120"),
        ("soil_temperature_c", 80.0, 327.67, "soil_temperature_c 327.67 outside -40..80"),
        ("distance_mm", 20000, 65535, "distance_mm 65535 outside 0..20000"),
        ("soil_conductivity_us_cm", 50000, 50001, "soil_conductivity_us_cm 50001 outside 0..50000"),
        ("hdop", 2.55, 50.5, "hdop 50.5 outside 0..50"),
        ("altitude_m", -12.5, -600.0, "altitude_m -600.0 outside -500..9000"),
        ("roll_deg", -180.0, -200.0, "roll_deg -200.0 outside -180..180"),
        ("pitch_deg", 90.0, 327.67, "pitch_deg 327.67 outside -180..180"),
    ],
)
def test_limits_are_inclusive(name: str, inside: float, outside: float, reason: str) -> None:
    assert check({name: inside}) == []
    assert check({name: outside}) == [reason]


def test_every_absurd_reading_is_named_in_reading_order() -> None:
    readings = {"battery_v": 3.6, "latitude": 95.0, "longitude": -200.0, "battery_pct": -1}
    assert check(readings) == [
        "latitude 95.0 outside -90..90",
        "longitude -200.0 outside -180..180",
        "battery_pct -1 outside 0..100",
    ]


def test_not_a_number_is_never_plausible() -> None:
    assert check({"latitude": float("nan")}) == ["latitude nan outside -90..90"]


def test_cayenne_and_per_depth_names_share_their_base_limits() -> None:
    readings: dict[str, Any] = {
        "temperature_3": 150.0,
        "relative_humidity_2": 127.5,
        "gps_1": {"latitude": 95.0, "longitude": 11.5, "altitude": 520.0},
        "soil_moisture_pct_3": -1.0,
        "soil_temperature_c_0": 12.34,
    }
    assert check(readings) == [
        "temperature_3 150.0 outside -60..120",
        "relative_humidity_2 127.5 outside 0..100",
        "gps_1.latitude 95.0 outside -90..90",
        "soil_moisture_pct_3 -1.0 outside 0..100",
    ]


def test_words_booleans_and_unranged_readings_are_not_judged() -> None:
    readings: dict[str, Any] = {
        "motion": "move",
        "tilted": True,
        "alarm": False,
        "digital_in_1": 255,
        "accelerometer_2": {"x": 30.0, "y": 0.0, "z": 0.0},
    }
    assert check(readings) == []


def test_a_frame_that_decodes_can_still_be_absurd() -> None:
    # LSE01 with moisture FFFF (655.35 %) and conductivity FFFF: the bytes say it, it cannot be.
    decoded = decode("dragino-lse01", 2, bytes.fromhex("0E1000F1FFFF099BFFFF00"))
    assert decoded.readings["soil_moisture_pct"] == 655.35
    assert check(decoded.readings) == [
        "soil_moisture_pct 655.35 outside 0..100",
        "soil_conductivity_us_cm 65535 outside 0..50000",
    ]


@pytest.mark.parametrize("vector", [v for v in vectors.load() if "readings" in v])
def test_reference_vectors_are_plausible(vector: dict[str, Any]) -> None:
    assert check(vector["readings"]) == []
