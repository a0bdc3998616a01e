"""Decentlab DL-SMTP: hand-built protocol 2 frames, errors, the encoder and round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof.codecs.base import Decoded
from bauhof.codecs.decentlab import decode, encode
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, frame

ABSENT = "0000 0000"  # moisture and temperature words of a depth without a probe


# Version 02, device id 0C67, flags 0003 (soil words and battery).
# Depth 0: 3A98 = 15000 -> (15000 - 2500) / 500 = 25.0; 84D2 = 34002 -> (34002 - 32768) / 100
# = 12.34 °C. Depth 1: 4556 = 17750 -> 30.5; 7F6A = 32618 -> -1.5 °C. Depths 2-7 absent.
# Battery 0C1C = 3100 -> 3.1 V.
WORDS = " ".join(["3A98 84D2", "4556 7F6A", *[ABSENT] * 6, "0C1C"])
TWO_PROBES = "02 0C67 0003 " + WORDS


def test_two_probes_and_battery() -> None:
    assert decode(1, frame(TWO_PROBES)) == Decoded(
        {
            "soil_moisture_pct_0": 25.0,
            "soil_temperature_c_0": 12.34,
            "soil_moisture_pct_1": 30.5,
            "soil_temperature_c_1": -1.5,
            "soil_moisture_pct": 25.0,
            "soil_temperature_c": 12.34,
            "battery_v": 3.1,
        }
    )


def test_plain_readings_come_from_the_shallowest_probe_present() -> None:
    # Only depth 3: 07D0 = 2000 -> -1.0 (the decoder says what the bytes say); 8000 -> 0.0 °C.
    only_depth_3 = " ".join(["02 0001 0001", *[ABSENT] * 3, "07D0 8000", *[ABSENT] * 4])
    assert decode(1, frame(only_depth_3)) == Decoded(
        {
            "soil_moisture_pct_3": -1.0,
            "soil_temperature_c_3": 0.0,
            "soil_moisture_pct": -1.0,
            "soil_temperature_c": 0.0,
        }
    )


def test_battery_only() -> None:
    assert decode(1, frame("02 0C67 0002 0C1C")) == Decoded({"battery_v": 3.1})


def test_no_probe_at_any_depth() -> None:
    assert decode(1, frame(" ".join(["02 0C67 0001", *[ABSENT] * 8]))) == Decoded(
        {}, ("no soil probe present at any depth",)
    )


@pytest.mark.parametrize(
    ("fport", "text", "reason"),
    [
        (1, "03 0C67 0002 0C1C", "unsupported protocol version 3"),
        (1, "02 0C67 00", "truncated frame: 4 bytes, header alone is 5"),
        (1, "02 0C67 0004 0C1C", "unknown sensor flags 0x0004"),
        (1, TWO_PROBES[:-4], "truncated frame: 37 bytes, expected 39"),
        (1, TWO_PROBES + "00", "oversized frame: 40 bytes, expected 39"),
        (1, "", "empty payload"),
        (2, TWO_PROBES, "unknown fPort"),
    ],
)
def test_errors(fport: int, text: str, reason: str) -> None:
    assert decode_refusal(decode, fport, frame(text)).reason == reason


def test_encode_exact_bytes() -> None:
    readings = decode(1, frame(TWO_PROBES)).readings
    # The device id is no reading: the encoder sends 0000.
    assert encode(readings) == (1, frame("02 0000 0003 " + WORDS))


def test_encode_plain_readings_as_depth_0() -> None:
    expected = " ".join(["02 0000 0001", "3A98 84D2", *[ABSENT] * 7])
    assert encode({"soil_moisture_pct": 25.0, "soil_temperature_c": 12.34}) == (1, frame(expected))


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        (
            {"soil_moisture_pct": 20.0, "soil_moisture_pct_1": 30.5},
            "soil_moisture_pct 20.0 differs from the shallowest soil_moisture_pct_<k>",
        ),
        ({"soil_moisture_pct_0": -5.0}, "soil_moisture_pct_0 -5.0 does not fit the field"),
        ({"soil_moisture_pct_2": 126.08}, "soil_moisture_pct_2 126.08 does not fit the field"),
        ({"soil_moisture_pct_8": 20.0}, "no field for reading soil_moisture_pct_8"),
        ({}, "no readings to encode"),
    ],
)
def test_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode, readings).reason == reason


@st.composite
def smtp_readings(draw: st.DrawFn) -> dict[str, Any]:
    """Per-depth readings for some depths (words 1..0xFFFF) and maybe a battery voltage."""
    readings: dict[str, Any] = {}
    for depth in draw(st.sets(st.integers(0, 7), max_size=8)):
        for name, offset, scale in (
            ("soil_moisture_pct", 2500, 500),
            ("soil_temperature_c", 32768, 100),
        ):
            if draw(st.booleans()):
                readings[f"{name}_{depth}"] = (draw(st.integers(1, 0xFFFF)) - offset) / scale
    if not readings or draw(st.booleans()):
        readings["battery_v"] = draw(st.integers(0, 0xFFFF)) / 1000
    return readings


@given(smtp_readings())
def test_round_trip(readings: dict[str, Any]) -> None:
    decoded = decode(*encode(readings)).readings
    plain = {
        name: min((key, value) for key, value in readings.items() if key.startswith(f"{name}_"))[1]
        for name in ("soil_moisture_pct", "soil_temperature_c")
        if any(key.startswith(f"{name}_") for key in readings)
    }
    assert decoded == {**readings, **plain}
