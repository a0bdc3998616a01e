"""Cayenne LPP: every listed type, frame errors, the encoder and round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof.codecs.base import Decoded
from bauhof.codecs.cayenne import CODECS, decode, encode
from tests.bauhof.codecs import vectors
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, frame, grid


@pytest.mark.parametrize("vector", vectors.params("cayenne-lpp"))
def test_reference_vector(vector: dict[str, Any]) -> None:
    vectors.check(vector, CODECS)


# One record of every type in devices.md: channel, type, value.
EVERY_TYPE = " ".join(
    [
        "01 00 01",  # digital_in 1
        "02 01 00",  # digital_out 0
        "03 02 FF38",  # analog_in -200 / 100
        "04 03 04D2",  # analog_out 1234 / 100
        "05 65 01F4",  # luminosity 500 lux
        "06 66 01",  # presence 1
        "07 67 FF38",  # temperature -200 / 10
        "08 68 61",  # relative_humidity 97 / 2
        "09 71 04D2 FB2E 03E8",  # accelerometer 1234, -1234, 1000 / 1000
        "0A 73 2797",  # barometric_pressure 10135 / 10
        "0B 86 0064 FF9C 2710",  # gyrometer 100, -100, 10000 / 100
        "0C 88 FAB84B F71778 FFFF9C",  # gps -346037 / 1e4, -583816 / 1e4, -100 / 100
    ]
)
EVERY_TYPE_READINGS: dict[str, Any] = {
    "digital_in_1": 1,
    "digital_out_2": 0,
    "analog_in_3": -2.0,
    "analog_out_4": 12.34,
    "luminosity_5": 500,
    "presence_6": 1,
    "temperature_7": -20.0,
    "relative_humidity_8": 48.5,
    "accelerometer_9": {"x": 1.234, "y": -1.234, "z": 1.0},
    "barometric_pressure_10": 1013.5,
    "gyrometer_11": {"x": 1.0, "y": -1.0, "z": 100.0},
    "gps_12": {"latitude": -34.6037, "longitude": -58.3816, "altitude": -1.0},
}


@pytest.mark.parametrize("fport", [1, 2, 99, 223])
def test_every_listed_type_on_any_fport(fport: int) -> None:
    decoded = decode(fport, frame(EVERY_TYPE))
    assert vectors.typed(decoded.readings) == vectors.typed(EVERY_TYPE_READINGS)
    assert decoded.warnings == ()


def test_every_listed_type_encodes_back_to_the_same_bytes() -> None:
    assert encode(EVERY_TYPE_READINGS) == (1, frame(EVERY_TYPE))


def test_same_channel_and_type_twice_keeps_the_later() -> None:
    assert decode(1, frame("0367 0110 0367 00FF")) == Decoded(
        {"temperature_3": 25.5}, ("temperature_3 appears twice: the later value kept",)
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0367 0110 0599 00", "unknown Cayenne LPP type 153 on channel 5 at byte 4"),
        ("0367 01", "truncated record at byte 0: temperature on channel 3 needs 2 bytes, 1 left"),
        (
            "0367 0110 0188 06765F F2960A 0003",
            "truncated record at byte 4: gps on channel 1 needs 9 bytes, 8 left",
        ),
        ("0367 0110 05", "truncated record at byte 4: channel 5 has no type"),
        ("", "empty payload"),
    ],
)
def test_a_bad_record_rejects_the_whole_frame(text: str, reason: str) -> None:
    assert decode_refusal(decode, 1, frame(text)).reason == reason


def test_encode_orders_by_channel() -> None:
    readings = {"temperature_5": 25.5, "temperature_3": 27.2}
    assert encode(readings) == (1, frame("0367 0110 0567 00FF"))


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        ({"humidity_1": 50}, "'humidity_1' is no <type>_<channel> name of a known LPP type"),
        ({"temperature": 20.0}, "'temperature' is no <type>_<channel> name of a known LPP type"),
        ({"temperature_300": 20.0}, "temperature_300: channel 300 does not fit a byte"),
        ({"temperature_3": 4000.0}, "temperature_3 4000.0 does not fit the field (s16 / 10)"),
        (
            {"accelerometer_2": {"x": 40.0, "y": 0.0, "z": 0.0}},
            "accelerometer_2.x 40.0 does not fit the field (s16 / 1000)",
        ),
        (
            {"gps_1": {"latitude": 1.0, "longitude": 2.0}},
            "gps_1 must be a mapping of latitude, longitude, altitude, "
            "not {'latitude': 1.0, 'longitude': 2.0}",
        ),
        ({"temperature_3": "warm"}, "temperature_3 must be a number, not 'warm'"),
        ({}, "no readings to encode"),
    ],
)
def test_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode, readings).reason == reason


def _triple(keys: tuple[str, ...], low: int, high: int, scale: int) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({key: grid(low, high, scale) for key in keys})


S16, S24 = (-32768, 32767), (-(1 << 23), (1 << 23) - 1)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "digital_in": st.integers(0, 255),
    "digital_out": st.integers(0, 255),
    "analog_in": grid(*S16, 100),
    "analog_out": grid(*S16, 100),
    "luminosity": st.integers(0, 0xFFFF),
    "presence": st.integers(0, 255),
    "temperature": grid(*S16, 10),
    "relative_humidity": grid(0, 255, 2),
    "accelerometer": _triple(("x", "y", "z"), *S16, 1000),
    "barometric_pressure": grid(0, 0xFFFF, 10),
    "gyrometer": _triple(("x", "y", "z"), *S16, 100),
    "gps": st.fixed_dictionaries(
        {
            "latitude": grid(*S24, 10_000),
            "longitude": grid(*S24, 10_000),
            "altitude": grid(*S24, 100),
        }
    ),
}


@st.composite
def lpp_readings(draw: st.DrawFn) -> dict[str, Any]:
    """A few LPP readings of any types on any channels."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(sorted(VALUES)), st.integers(0, 255)),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    return {f"{prefix}_{channel}": draw(VALUES[prefix]) for prefix, channel in keys}


@given(lpp_readings())
def test_round_trip(readings: dict[str, Any]) -> None:
    fport, payload = encode(readings)
    assert vectors.typed(decode(fport, payload).readings) == vectors.typed(readings)
