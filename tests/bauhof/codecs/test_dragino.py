"""Dragino LSE01, LDDS75 and LGT92: reference vectors, hand-built frames, encoders, round trips."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bauhof.codecs import Decoded, DecodeError, EncodeError
from bauhof.codecs.dragino import (
    CODECS,
    decode_ldds75,
    decode_lgt92,
    decode_lse01,
    encode_ldds75,
    encode_lgt92,
    encode_lse01,
)
from tests.bauhof.codecs import vectors
from tests.bauhof.codecs.frames import decode_refusal, encode_refusal, grid


@pytest.mark.parametrize(
    "vector", vectors.params("dragino-lse01", "dragino-ldds75", "dragino-lgt92")
)
def test_reference_vector(vector: dict[str, Any]) -> None:
    vectors.check(vector, CODECS)


# --- LSE01 -----------------------------------------------------------------------------------


def test_lse01_negative_temperatures() -> None:
    # CE10: battery, top two bits masked off -> 0x0E10 = 3600 mV; FF83: probe -125 -> -12.5 °C;
    # 0BB8: 3000 -> 30.00 %; FF9C: -100 -> -1.00 °C (upstream says -0.99); 01F4: 500 µS/cm;
    # 10: flags, normal mode.
    assert decode_lse01(2, bytes.fromhex("CE10FF830BB8FF9C01F410")) == Decoded(
        {
            "battery_v": 3.6,
            "temperature_c": -12.5,
            "soil_moisture_pct": 30.0,
            "soil_temperature_c": -1.0,
            "soil_conductivity_us_cm": 500,
        }
    )


RAW_MODE = Decoded({"battery_v": 3.6, "temperature_c": 24.1}, ("raw mode",))


def test_lse01_raw_mode_gives_no_soil_readings() -> None:
    # Flags 0x90: bit 7 raw mode. Bytes 4-5 00FD = dielectric constant 25.3, 6-7 raw water,
    # 8-9 raw EC: none of them are moisture, soil temperature or conductivity.
    assert decode_lse01(2, bytes.fromhex("0E1000F100FD0640012390")) == RAW_MODE


@pytest.mark.parametrize(
    ("moisture_hex", "raw_mode"),
    [("03E8", True), ("03E9", False)],  # 1000 = dielectric constant 100.0; 1001 cannot be one
)
def test_lse01_raw_mode_flag_needs_a_possible_dielectric_constant(
    moisture_hex: str, raw_mode: bool
) -> None:
    decoded = decode_lse01(2, bytes.fromhex(f"0E1000F1{moisture_hex}099B6E2880"))
    if raw_mode:
        assert decoded == RAW_MODE
    else:
        assert decoded.readings["soil_moisture_pct"] == 10.01
        assert decoded.readings["soil_conductivity_us_cm"] == 28200
        assert decoded.warnings == (
            "raw-mode flag ignored: bytes 4-5 are no dielectric constant",
        )


@pytest.mark.parametrize(
    ("hex_payload", "reason"),
    [
        ("CE2900F107A5099B6E28", "truncated frame: 10 bytes, expected 11"),
        ("CE2900F107A5099B6E289000", "oversized frame: 12 bytes, expected 11"),
        ("", "empty payload"),
    ],
)
def test_lse01_wrong_length(hex_payload: str, reason: str) -> None:
    refused = decode_refusal(decode_lse01, 2, bytes.fromhex(hex_payload))
    assert (refused.model, refused.fport, refused.reason) == ("dragino-lse01", 2, reason)


@pytest.mark.parametrize("fport", [0, 1, 3, 85, 224])
def test_lse01_unknown_fport(fport: int) -> None:
    with pytest.raises(DecodeError, match="unknown fPort"):
        decode_lse01(fport, bytes.fromhex("CE2900F107A5099B6E2890"))


def test_lse01_encode_exact_bytes() -> None:
    fport, payload = encode_lse01(
        {
            "battery_v": 3.6,
            "temperature_c": -12.5,
            "soil_moisture_pct": 30.0,
            "soil_temperature_c": -1.0,
            "soil_conductivity_us_cm": 500,
        }
    )
    assert (fport, payload.hex().upper()) == (2, "0E10FF830BB8FF9C01F400")


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        ({"battery_v": 3.6}, "missing reading temperature_c"),
        (
            {
                "battery_v": 17.0,
                "temperature_c": 1.0,
                "soil_moisture_pct": 1.0,
                "soil_temperature_c": 1.0,
                "soil_conductivity_us_cm": 1,
            },
            "battery_v 17.0 does not fit the field (u14 / 1000)",
        ),
        ({"battery_v": 3.6, "humidity": 50}, "no field for reading humidity"),
        ({"battery_v": True}, "battery_v must be a number, not True"),
        ({"battery_v": float("nan")}, "battery_v must be finite, not nan"),
    ],
)
def test_lse01_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode_lse01, readings).reason == reason


@given(
    st.fixed_dictionaries(
        {
            "battery_v": grid(0, 0x3FFF, 1000),
            "temperature_c": grid(-32768, 32767, 10),
            "soil_moisture_pct": grid(0, 0xFFFF, 100),
            "soil_temperature_c": grid(-32768, 32767, 100),
            "soil_conductivity_us_cm": st.integers(0, 0xFFFF),
        }
    )
)
def test_lse01_round_trip(readings: dict[str, Any]) -> None:
    assert decode_lse01(*encode_lse01(readings)).readings == readings


# --- LDDS75 ----------------------------------------------------------------------------------


def test_ldds75_negative_temperature() -> None:
    # 0CE4: 3300 mV; 05DC: 1500 mm; 00: no interrupt; FFCE: -50 -> -5.0 °C; 01: probe detected.
    assert decode_ldds75(2, bytes.fromhex("0CE405DC00FFCE01")) == Decoded(
        {"battery_v": 3.3, "distance_mm": 1500, "temperature_c": -5.0}
    )


def test_ldds75_no_sensor_and_no_probe() -> None:
    # Distance 0000 = no sensor; sensor flag 00, so the temperature bytes 00FA (25.0) mean nothing.
    assert decode_ldds75(2, bytes.fromhex("0CE400000000FA00")) == Decoded(
        {"battery_v": 3.3}, ("distance 0: no ultrasonic sensor connected",)
    )


def test_ldds75_invalid_distance() -> None:
    # 0014 = 20: invalid reading
    assert decode_ldds75(2, bytes.fromhex("0CE4001400010401")) == Decoded(
        {"battery_v": 3.3, "temperature_c": 26.0}, ("distance 20: invalid reading",)
    )


def test_ldds75_unknown_sensor_flag() -> None:
    assert decode_ldds75(2, bytes.fromhex("0CE405DC0000FA02")) == Decoded(
        {"battery_v": 3.3, "distance_mm": 1500}, ("unknown sensor flag 0x02: temperature ignored",)
    )


@pytest.mark.parametrize(
    ("fport", "hex_payload", "reason"),
    [
        (2, "0CE405DC00FFCE", "truncated frame: 7 bytes, expected 8"),
        (2, "0CE405DC00FFCE0100", "oversized frame: 9 bytes, expected 8"),
        (1, "0CE405DC00FFCE01", "unknown fPort"),
    ],
)
def test_ldds75_errors(fport: int, hex_payload: str, reason: str) -> None:
    assert decode_refusal(decode_ldds75, fport, bytes.fromhex(hex_payload)).reason == reason


def test_ldds75_encode_exact_bytes() -> None:
    full = encode_ldds75({"battery_v": 3.3, "distance_mm": 1500, "temperature_c": -5.0})
    assert full == (2, bytes.fromhex("0CE405DC00FFCE01"))
    bare = encode_ldds75({"battery_v": 3.3})  # no distance: "no sensor"; no temperature: no probe
    assert bare == (2, bytes.fromhex("0CE4000000000000"))


@pytest.mark.parametrize("distance", [0, 20])
def test_ldds75_encode_refuses_reserved_distances(distance: int) -> None:
    with pytest.raises(EncodeError, match="reserved"):
        encode_ldds75({"battery_v": 3.3, "distance_mm": distance})


@given(
    st.fixed_dictionaries(
        {"battery_v": grid(0, 0x3FFF, 1000)},
        optional={
            "distance_mm": st.integers(0, 0xFFFF).filter(lambda d: d not in (0, 20)),
            "temperature_c": grid(-32768, 32767, 10),
        },
    )
)
def test_ldds75_round_trip(readings: dict[str, Any]) -> None:
    assert decode_ldds75(*encode_ldds75(readings)).readings == readings


# --- LGT92 -----------------------------------------------------------------------------------

# 03216448 = 52520008 -> 52.520008; 00CC8B1A = 13404954 -> 13.404954 (Berlin).
BERLIN = "0321644800CC8B1A"
BERLIN_FIX = {"latitude": 52.520008, "longitude": 13.404954}
# FDEFFD36 = -34603722, FC852AE8 = -58381592 (Buenos Aires): negative s32.
BUENOS_AIRES = "FDEFFD36FC852AE8"


def test_lgt92_11_byte_frame() -> None:
    # 4F: bit 6 alarm, bits 5-0 0F; 3C -> 0x0F3C = 3900 mV; 84: motion 2 collide, firmware 164.
    assert decode_lgt92(2, bytes.fromhex(BERLIN + "4F3C84")) == Decoded(
        {**BERLIN_FIX, "alarm": True, "battery_v": 3.9, "motion": "collide"}
    )


def test_lgt92_15_byte_frame() -> None:
    # 0C2E: 3118 mV, no alarm; C6: motion 3 user; FB2E: roll -12.34; 1194: pitch 45.00.
    assert decode_lgt92(2, bytes.fromhex(BUENOS_AIRES + "0C2EC6FB2E1194")) == Decoded(
        {
            "latitude": -34.603722,
            "longitude": -58.381592,
            "alarm": False,
            "battery_v": 3.118,
            "motion": "user",
            "roll_deg": -12.34,
            "pitch_deg": 45.0,
        }
    )


def test_lgt92_18_byte_frame() -> None:
    # 00: motion 0 disabled; roll 0000, pitch FB2E; 7D: hdop 1.25; FB1E: altitude -12.50 m.
    assert decode_lgt92(2, bytes.fromhex(BERLIN + "0F3C000000FB2E7DFB1E")) == Decoded(
        {
            **BERLIN_FIX,
            "alarm": False,
            "battery_v": 3.9,
            "motion": "disabled",
            "roll_deg": 0.0,
            "pitch_deg": -12.34,
            "hdop": 1.25,
            "altitude_m": -12.5,
        }
    )


def test_lgt92_no_fix_in_a_15_byte_frame() -> None:
    assert decode_lgt92(2, bytes.fromhex("00000000000000000F3C40004B0190")) == Decoded(
        {"alarm": False, "battery_v": 3.9, "motion": "move", "roll_deg": 0.75, "pitch_deg": 4.0},
        ("no GPS fix",),
    )


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        (10, "truncated frame: 10 bytes, expected 11, 15 or 18"),
        (12, "unexpected frame length: 12 bytes, expected 11, 15 or 18"),
        (17, "unexpected frame length: 17 bytes, expected 11, 15 or 18"),
        (19, "oversized frame: 19 bytes, expected 11, 15 or 18"),
    ],
)
def test_lgt92_wrong_length(size: int, reason: str) -> None:
    frame = bytes.fromhex(BERLIN + "0F3C000000FB2E7DFB1E00")[:size]
    assert decode_refusal(decode_lgt92, 2, frame).reason == reason


def test_lgt92_unknown_fport() -> None:
    with pytest.raises(DecodeError, match="unknown fPort"):
        decode_lgt92(5, bytes.fromhex(BERLIN + "4F3C84"))


def test_lgt92_encoder_picks_the_frame() -> None:
    base: dict[str, Any] = {**BERLIN_FIX, "battery_v": 3.9}
    # 15 bytes by default: no alarm, motion disabled, firmware bits 0, roll and pitch 0.
    assert encode_lgt92(base) == (2, bytes.fromhex(BERLIN + "0F3C0000000000"))
    # 18 bytes with hdop/altitude: 4F alarm + battery, 80 collide, roll/pitch 0, 7D, FB1E.
    quality = {**base, "alarm": True, "motion": "collide", "hdop": 1.25, "altitude_m": -12.5}
    assert encode_lgt92(quality) == (2, bytes.fromhex(BERLIN + "4F3C80" + "00000000" + "7DFB1E"))
    # No position: 0/0, which the decoder reads as "no fix".
    assert encode_lgt92({"battery_v": 3.9}) == (2, bytes.fromhex("00000000000000000F3C0000000000"))


@pytest.mark.parametrize(
    ("readings", "reason"),
    [
        ({"latitude": 52.5, "battery_v": 3.9}, "latitude and longitude go together"),
        (
            {"latitude": 0.0, "longitude": 0.0, "battery_v": 3.9},
            "latitude = longitude = 0 means no fix: leave both out",
        ),
        (
            {"battery_v": 3.9, "motion": "flying"},
            "motion must be one of disabled, move, collide, user, not 'flying'",
        ),
        ({"battery_v": 3.9, "alarm": 1}, "alarm must be true or false, not 1"),
        ({"battery_v": 3.9, "hdop": 2.56}, "hdop 2.56 does not fit the field (u8 / 100)"),
        ({"motion": "move"}, "missing reading battery_v"),
    ],
)
def test_lgt92_encode_refuses(readings: dict[str, Any], reason: str) -> None:
    assert encode_refusal(encode_lgt92, readings).reason == reason


@st.composite
def lgt92_readings(draw: st.DrawFn) -> dict[str, Any]:
    """Readings an LGT92 15- or 18-byte frame carries exactly."""
    readings: dict[str, Any] = {
        "battery_v": draw(grid(0, 0x3FFF, 1000)),
        "alarm": draw(st.booleans()),
        "motion": draw(st.sampled_from(["disabled", "move", "collide", "user"])),
        "roll_deg": draw(grid(-32768, 32767, 100)),
        "pitch_deg": draw(grid(-32768, 32767, 100)),
    }
    if draw(st.booleans()):
        readings["latitude"] = draw(grid(-90_000_000, 90_000_000, 1_000_000))
        readings["longitude"] = draw(grid(-180_000_000, 180_000_000, 1_000_000))
        if readings["latitude"] == 0 and readings["longitude"] == 0:
            readings["longitude"] = 0.000001
    if draw(st.booleans()):
        readings["hdop"] = draw(grid(0, 255, 100))
        readings["altitude_m"] = draw(grid(-32768, 32767, 100))
    return readings


@given(lgt92_readings())
def test_lgt92_round_trip(readings: dict[str, Any]) -> None:
    fport, payload = encode_lgt92(readings)
    assert len(payload) == (18 if "hdop" in readings else 15)
    assert decode_lgt92(fport, payload).readings == readings
