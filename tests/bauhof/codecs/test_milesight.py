"""Milesight EM500-SMTC, EM310-UDL, EM400-UDL and AT101: record frames, encoders, round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof.codecs.base import Decoded
from bauhof.codecs.milesight import (
    CODECS,
    decode_at101,
    decode_em310_udl,
    decode_em400_udl,
    decode_em500_smtc,
    encode_at101,
    encode_em310_udl,
    encode_em400_udl,
    encode_em500_smtc,
)
from tests.bauhof.codecs import vectors
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, frame, grid


@pytest.mark.parametrize(
    "vector",
    vectors.params(
        "milesight-em500-smtc", "milesight-em310-udl", "milesight-em400-udl", "milesight-at101"
    ),
)
def test_reference_vector(vector: dict[str, Any]) -> None:
    vectors.check(vector, CODECS)


# --- the record walker, through the EM500-SMTC ------------------------------------------------


def test_em500_one_byte_moisture_keeps_the_ec_record_after_it() -> None:
    # 01 75 64: 100 %; 03 67 F6FF: -10 -> -1.0 °C in the soil; 04 68 51: 81 / 2 = 40.5 %
    # (one byte); 05 7F 2C01: 300 µS/cm, which a two-byte skip after 04 68 would lose.
    assert decode_em500_smtc(85, frame("0175 64 0367 F6FF 0468 51 057F 2C01")) == Decoded(
        {
            "battery_pct": 100,
            "soil_temperature_c": -1.0,
            "soil_moisture_pct": 40.5,
            "soil_conductivity_us_cm": 300,
        }
    )


def test_em500_two_byte_moisture_of_newer_firmware() -> None:
    # 0x0F6E = 3950 -> 39.50 %
    assert decode_em500_smtc(85, frame("04CA 6E0F 057F 0000")) == Decoded(
        {"soil_moisture_pct": 39.5, "soil_conductivity_us_cm": 0}
    )


def test_device_information_frame_gives_nothing() -> None:
    decoded = decode_em500_smtc(85, frame("FF0B FF FF01 01 FF16 6746D38802580000 FF09 0110"))
    assert decoded == Decoded({})


def test_device_information_after_readings_ends_the_frame() -> None:
    assert decode_em500_smtc(85, frame("0175 5C FF0F 00")) == Decoded({"battery_pct": 92})


def test_unknown_record_stops_the_walk_and_keeps_what_came_before() -> None:
    assert decode_em500_smtc(85, frame("0175 5C 0699 1234 0367 3401")) == Decoded(
        {"battery_pct": 92}, ("unknown record 06 99 at byte 3: rest of frame ignored",)
    )


@pytest.mark.parametrize(
    ("fport", "text", "reason"),
    [
        (85, "0175 5C 0367 34", "truncated record 03 67 at byte 3: 1 of 2 value bytes"),
        (85, "0175 5C 03", "truncated record at byte 3: channel 03, no type"),
        (85, "0175", "truncated record 01 75 at byte 0: 0 of 1 value bytes"),
        (85, "", "empty payload"),
        (2, "0175 5C", "unknown fPort"),
    ],
)
def test_em500_errors(fport: int, text: str, reason: str) -> None:
    refused = decode_refusal(decode_em500_smtc, fport, frame(text))
    assert refused.reason == reason
    assert refused.model == "milesight-em500-smtc"


def test_em500_encode_exact_bytes() -> None:
    fport, payload = encode_em500_smtc(
        {
            "battery_pct": 100,
            "soil_temperature_c": -1.0,
            "soil_moisture_pct": 40.5,
            "soil_conductivity_us_cm": 300,
        }
    )
    # Moisture goes as the two-byte 04 CA record: 4050 = 0x0FD2.
    assert (fport, payload) == (85, frame("0175 64 0367 F6FF 04CA D20F 057F 2C01"))


def test_em500_old_moisture_record_reencodes_to_the_same_readings() -> None:
    old = decode_em500_smtc(85, frame("0175 5C 0468 65 057F F000"))
    assert decode_em500_smtc(*encode_em500_smtc(old.readings)).readings == old.readings


# --- EM310-UDL ---------------------------------------------------------------------------------


def test_em310_readings() -> None:
    # 0x07D0 = 2000 mm
    assert decode_em310_udl(85, frame("0175 0A 0382 D007 0400 00")) == Decoded(
        {"battery_pct": 10, "distance_mm": 2000, "tilted": False}
    )


def test_em310_does_not_know_the_em400_distance_channel() -> None:
    assert decode_em310_udl(85, frame("0175 0A 0482 D007")) == Decoded(
        {"battery_pct": 10}, ("unknown record 04 82 at byte 3: rest of frame ignored",)
    )


def test_em310_encode_exact_bytes() -> None:
    payload = frame("0175 0A 0382 D007 0400 01")
    assert encode_em310_udl({"battery_pct": 10, "distance_mm": 2000, "tilted": True}) == (
        85,
        payload,
    )


# --- EM400-UDL ---------------------------------------------------------------------------------


def test_em400_readings() -> None:
    # 03 67 9CFF: -100 -> -10.0 °C; 04 82 E803: 1000 mm; 05 00 01: tilted.
    assert decode_em400_udl(85, frame("0175 50 0367 9CFF 0482 E803 0500 01")) == Decoded(
        {"battery_pct": 80, "temperature_c": -10.0, "distance_mm": 1000, "tilted": True}
    )


def test_em400_alarm_records() -> None:
    # 83 67 2C01 01: 30.0 °C with its alarm set; 84 82 F401 00: 500 mm, no distance alarm.
    assert decode_em400_udl(85, frame("8367 2C01 01 8482 F401 00")) == Decoded(
        {"temperature_c": 30.0, "distance_mm": 500, "alarm": True}
    )


@pytest.mark.parametrize(("alarm_byte", "alarm"), [("01", True), ("00", False)])
def test_em400_distance_alarm_record(alarm_byte: str, alarm: bool) -> None:
    assert decode_em400_udl(85, frame(f"8482 6400 {alarm_byte}")) == Decoded(
        {"distance_mm": 100, "alarm": alarm}
    )


def test_em400_truncated_alarm_record() -> None:
    refused = decode_refusal(decode_em400_udl, 85, frame("8482 6400"))
    assert refused.reason == "truncated record 84 82 at byte 0: 2 of 3 value bytes"


def test_em400_encode_with_alarm_uses_alarm_records() -> None:
    readings = {"battery_pct": 80, "temperature_c": 30.0, "distance_mm": 500, "alarm": True}
    assert encode_em400_udl(readings) == (85, frame("0175 50 8367 2C01 01 8482 F401 01"))
    assert encode_em400_udl({"distance_mm": 500}) == (85, frame("0482 F401"))


def test_em400_alarm_needs_a_reading_to_travel_with() -> None:
    refused = encode_refusal(encode_em400_udl, {"battery_pct": 80, "alarm": True})
    assert refused.reason == "alarm needs temperature_c or distance_mm to travel with"


# --- AT101 -------------------------------------------------------------------------------------

# 1700000000 = 2023-11-14T22:13:20Z; Berlin 13.404954 E, 52.520008 N as s32 LE.
TIME = "00F15365"
LONGITUDE = "1A8BCC00"
LATITUDE = "48642103"


def test_at101_history_record_has_longitude_before_latitude() -> None:
    assert decode_at101(85, frame(f"0175 32 20CE {TIME} {LONGITUDE} {LATITUDE}")) == Decoded(
        {"battery_pct": 50, "latitude": 52.520008, "longitude": 13.404954},
        ("position from history record of 2023-11-14T22:13:20Z",),
    )


def test_at101_newest_history_record_wins() -> None:
    older = f"20CE 00E15365 {LATITUDE} {LONGITUDE}"  # 1699999744, latitude/longitude swapped
    newer = f"20CE {TIME} {LONGITUDE} {LATITUDE}"
    assert decode_at101(85, frame(f"{newer} {older}")) == Decoded(
        {"latitude": 52.520008, "longitude": 13.404954},
        ("position from history record of 2023-11-14T22:13:20Z",),
    )


def test_at101_live_position_beats_history() -> None:
    # Live 04 88: Buenos Aires, status 0x11 = geofence 1 (outside), motion 1 (start).
    live = "0488 36FDEFFD E82A85FC 11"
    assert decode_at101(85, frame(f"20CE {TIME} {LONGITUDE} {LATITUDE} {live}")) == Decoded(
        {"latitude": -34.603722, "longitude": -58.381592, "motion": "start"},
        ("1 history position(s) ignored: frame has a live position",),
    )


def test_at101_unknown_motion_state() -> None:
    assert decode_at101(85, frame(f"0488 {LATITUDE} {LONGITUDE} 25")) == Decoded(
        {"latitude": 52.520008, "longitude": 13.404954}, ("unknown motion state 5",)
    )


def test_at101_wifi_scan_and_tamper_records_carry_no_readings() -> None:
    wifi = "06D9 00 A1B2C3D4E5F6 C4 02"  # group, MAC, RSSI -60, motion
    assert decode_at101(85, frame(f"{wifi} 0700 01 0500 01")) == Decoded({"tilted": True})


def test_at101_encode_exact_bytes() -> None:
    fport, payload = encode_at101(
        {
            "battery_pct": 100,
            "temperature_c": 28.3,
            "latitude": 24.62495,
            "longitude": 118.030576,
            "motion": "moving",
            "tilted": False,
        }
    )
    # Status 0x22: geofence 2 (unset) in the high nibble, motion 2 (moving) in the low one.
    assert (fport, payload) == (85, frame("0175 64 0367 1B01 0488 36BF7701 F0000907 22 0500 00"))


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        ({"latitude": 1.0}, "latitude and longitude go together"),
        ({"motion": "stop"}, "motion travels in record 04 88, with latitude and longitude"),
        ({}, "no readings to encode"),
        ({"battery_pct": 256}, "battery_pct 256 does not fit the field (u8 / 1)"),
        ({"speed": 3}, "no field for reading speed"),
    ],
)
def test_at101_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode_at101, readings).reason == reason


# --- round trips -------------------------------------------------------------------------------


BATTERY = st.integers(0, 255)
TEMPERATURE = grid(-32768, 32767, 10)
DISTANCE = st.integers(0, 0xFFFF)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "battery_pct": BATTERY,
            "soil_temperature_c": TEMPERATURE,
            "soil_moisture_pct": grid(0, 0xFFFF, 100),
            "soil_conductivity_us_cm": st.integers(0, 0xFFFF),
        },
    ).filter(bool)
)
def test_em500_round_trip(readings: dict[str, Any]) -> None:
    assert decode_em500_smtc(*encode_em500_smtc(readings)).readings == readings


@given(
    st.fixed_dictionaries(
        {}, optional={"battery_pct": BATTERY, "distance_mm": DISTANCE, "tilted": st.booleans()}
    ).filter(bool)
)
def test_em310_round_trip(readings: dict[str, Any]) -> None:
    assert decode_em310_udl(*encode_em310_udl(readings)).readings == readings


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "battery_pct": BATTERY,
            "temperature_c": TEMPERATURE,
            "distance_mm": DISTANCE,
            "tilted": st.booleans(),
            "alarm": st.booleans(),
        },
    ).filter(lambda r: r and ("alarm" not in r or "temperature_c" in r or "distance_mm" in r))
)
def test_em400_round_trip(readings: dict[str, Any]) -> None:
    assert decode_em400_udl(*encode_em400_udl(readings)).readings == readings


@st.composite
def at101_readings(draw: st.DrawFn) -> dict[str, Any]:
    """AT101 readings, the position (with its motion state) all or nothing."""
    readings: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "battery_pct": BATTERY,
                "temperature_c": TEMPERATURE,
                "tilted": st.booleans(),
            },
        )
    )
    if not readings or draw(st.booleans()):
        readings["latitude"] = draw(grid(-90_000_000, 90_000_000, 1_000_000))
        readings["longitude"] = draw(grid(-180_000_000, 180_000_000, 1_000_000))
        readings["motion"] = draw(st.sampled_from(["unknown", "start", "moving", "stop"]))
    return readings


@given(at101_readings())
def test_at101_round_trip(readings: dict[str, Any]) -> None:
    assert decode_at101(*encode_at101(readings)).readings == readings
