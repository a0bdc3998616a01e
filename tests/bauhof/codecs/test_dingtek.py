"""Dingtek DF703: 17- and 25-byte data frames, parameter frames, framing errors, encoder."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof.codecs.base import Decoded
from bauhof.codecs.dingtek import decode, encode
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, frame

# 80 start; 00 01 (not decoded); 02 data frame; 11 = 17 bytes; 05DC level 1500 mm; 00;
# 17 = 23 °C; 00 00; 10 = full alarm (high nibble), no fire alarm; 00 no fall, no battery alarm;
# 00 00 00; 81 end.
PLAIN = "80 0001 02 11 05DC 00 17 0000 10 00 000000 81"
# 25 bytes: longitude AD7A5641 (float32 LE 13.40495) and latitude 7E145242 (52.52001) at
# bytes 8-15; temperature and the alarm bytes follow 8 bytes later.
WITH_POSITION = "80 0001 02 19 05DC 00 AD7A5641 7E145242 17 0000 00 00 000000 81"


def test_plain_data_frame() -> None:
    assert decode(3, frame(PLAIN)) == Decoded(
        {"distance_mm": 1500, "temperature_c": 23.0, "alarm": True, "tilted": False}
    )


def test_negative_temperature_and_every_alarm() -> None:
    # F6 = -10 °C; 01 = fire alarm; 11 = fall alarm and battery alarm.
    assert decode(3, frame("80 0001 02 11 0BB8 00 F6 0000 01 11 000000 81")) == Decoded(
        {"distance_mm": 3000, "temperature_c": -10.0, "alarm": True, "tilted": True},
        ("fire alarm", "battery alarm"),
    )


def test_frame_with_position() -> None:
    assert decode(3, frame(WITH_POSITION)) == Decoded(
        {
            "distance_mm": 1500,
            "latitude": 52.52001,
            "longitude": 13.40495,
            "temperature_c": 23.0,
            "alarm": False,
            "tilted": False,
        }
    )


def test_frame_with_zero_position_has_no_fix() -> None:
    decoded = decode(3, frame("80 0001 02 19 05DC 00 00000000 00000000 17 0000 00 00 000000 81"))
    assert decoded == Decoded(
        {"distance_mm": 1500, "temperature_c": 23.0, "alarm": False, "tilted": False},
        ("no GPS fix",),
    )


def test_parameter_frame_gives_nothing() -> None:
    assert decode(3, frame("80 0001 03 0B 0102030405 81")) == Decoded({})


@pytest.mark.parametrize(
    ("fport", "text", "reason"),
    [
        (3, "7F" + PLAIN.replace(" ", "")[2:], "frame starts 0x7F, not 0x80"),
        (3, PLAIN.replace(" ", "")[:-2] + "00", "frame ends 0x00, not 0x81"),
        (
            3,
            "80 0001 02 12 05DC 00 17 0000 10 00 000000 81",
            "length byte says 18 bytes, frame has 17",
        ),
        (
            3,
            "80 0001 02 10 05DC 00 17 0000 10 00 0000 81",
            "truncated frame: 16 bytes, expected 17 or 25",
        ),
        (
            3,
            "80 0001 02 14 05DC 00 17 0000 10 00 000000000000 81",
            "unexpected frame length: 20 bytes, expected 17 or 25",
        ),
        (3, "80 0001", "truncated frame: 3 bytes, header is 5"),
        (
            3,
            "80 0001 02 19 05DC 00 0000C07F 7E145242 17 0000 00 00 000000 81",
            "position is not a finite float32",
        ),
        (3, "", "empty payload"),
        (2, PLAIN, "unknown fPort"),
    ],
)
def test_errors(fport: int, text: str, reason: str) -> None:
    assert decode_refusal(decode, fport, frame(text)).reason == reason


def test_encode_exact_bytes() -> None:
    readings = {"distance_mm": 1500, "temperature_c": 23.0, "alarm": True, "tilted": False}
    assert encode(readings) == (3, frame("80 0000 02 11 05DC 00 17 0000 10 00 000000 81"))
    with_position = {**readings, "alarm": False, "latitude": 52.52001, "longitude": 13.40495}
    expected = "80 0000 02 19 05DC 00 AD7A5641 7E145242 17 0000 00 00 000000 81"
    assert encode(with_position) == (3, frame(expected))


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        ({"temperature_c": 20.0}, "missing reading distance_mm"),
        (
            {"distance_mm": 100, "temperature_c": 128.0},
            "temperature_c 128.0 does not fit the field (s8 / 1)",
        ),
        (
            {"distance_mm": 100, "temperature_c": 1.0, "latitude": 0.0, "longitude": 0.0},
            "latitude = longitude = 0 means no fix: leave both out",
        ),
        (
            {"distance_mm": 100, "temperature_c": 1.0, "longitude": 9.0},
            "latitude and longitude go together",
        ),
    ],
)
def test_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode, readings).reason == reason


@st.composite
def df703_readings(draw: st.DrawFn) -> dict[str, Any]:
    """DF703 readings, positions on a 1e-5 degree grid."""
    readings: dict[str, Any] = {
        "distance_mm": draw(st.integers(0, 0xFFFF)),
        "temperature_c": float(draw(st.integers(-128, 127))),
        "alarm": draw(st.booleans()),
        "tilted": draw(st.booleans()),
    }
    if draw(st.booleans()):
        readings["latitude"] = draw(st.integers(1, 9_000_000)) / 100_000
        readings["longitude"] = draw(st.integers(-18_000_000, 18_000_000)) / 100_000
    return readings


@given(df703_readings())
def test_round_trip(readings: dict[str, Any]) -> None:
    decoded = dict(decode(*encode(readings)).readings)
    for name in ("latitude", "longitude"):
        if name in readings:
            # float32 steps are 1.5e-5 degrees near 180, and the decoder rounds to 5 decimals.
            assert decoded.pop(name) == pytest.approx(readings.pop(name), abs=2e-5)
    assert decoded == readings
