"""Dingtek DF703 bin fill-level sensor: 0x80 … 0x81 framed uplinks on fPort 3 (devices.md).

The reference gives the 17-byte data frame; the 25-byte frame inserts longitude and latitude
(float32 LE) at bytes 8-15, so the fields after them move 8 bytes on.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping

from bauhof.codecs.base import Codec, Decoded, DecodeError, EncodeError, Readings, ReadingValue
from bauhof.codecs.fields import (
    check_frame,
    check_length,
    check_names,
    flag,
    number,
    pack,
    raw,
    required,
    sint,
    uint,
)

MODEL = "dingtek-df703"
FPORT = 3
START, END = 0x80, 0x81
PARAMETER_FRAME = 0x03  # devices.md: b[3] = 0x03 is a parameter frame, no readings
DATA_FRAME = 0x02  # what the encoder puts in b[3]; any type but 0x03 is read as data
PLAIN, WITH_POSITION = 17, 25
POSITION_SHIFT = WITH_POSITION - PLAIN


def decode(fport: int, payload: bytes) -> Decoded:
    """Decode a DF703 frame (fPort 3): distance, temperature, alarms, tilt and GPS position."""
    check_frame(MODEL, fport, payload, FPORT)
    if payload[0] != START:
        raise DecodeError(MODEL, fport, f"frame starts 0x{payload[0]:02X}, not 0x80")
    if len(payload) < 5:
        raise DecodeError(MODEL, fport, f"truncated frame: {len(payload)} bytes, header is 5")
    if payload[4] != len(payload):
        raise DecodeError(
            MODEL, fport, f"length byte says {payload[4]} bytes, frame has {len(payload)}"
        )
    if payload[-1] != END:
        raise DecodeError(MODEL, fport, f"frame ends 0x{payload[-1]:02X}, not 0x81")
    if payload[3] == PARAMETER_FRAME:
        return Decoded({})
    check_length(MODEL, fport, payload, (PLAIN, WITH_POSITION))
    readings: Readings = {"distance_mm": uint(payload, 5, 2)}
    warnings: list[str] = []
    shift = 0
    if len(payload) == WITH_POSITION:
        shift = POSITION_SHIFT
        longitude, latitude = struct.unpack_from("<ff", payload, 8)
        if not (math.isfinite(longitude) and math.isfinite(latitude)):
            raise DecodeError(MODEL, fport, "position is not a finite float32")
        if longitude == 0 and latitude == 0:
            warnings.append("no GPS fix")
        else:
            # float32 carries about 5 decimals of a degree; more would be noise.
            readings["latitude"] = round(latitude, 5)
            readings["longitude"] = round(longitude, 5)
    readings["temperature_c"] = float(sint(payload, 8 + shift, 1))
    full, fire = payload[11 + shift] >> 4, payload[11 + shift] & 0x0F
    fall, battery = payload[12 + shift] >> 4, payload[12 + shift] & 0x0F
    readings["alarm"] = bool(full or fire)
    readings["tilted"] = bool(fall)
    if fire:
        warnings.append("fire alarm")
    if battery:
        warnings.append("battery alarm")
    return Decoded(readings, tuple(warnings))


def encode(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode a DF703 data frame: 25 bytes with latitude/longitude, else 17; alarm = full alarm."""
    check_names(
        MODEL,
        readings,
        ("distance_mm", "temperature_c", "alarm", "tilted", "latitude", "longitude"),
    )
    distance = raw(MODEL, "distance_mm", required(MODEL, readings, "distance_mm"), 1, "u16")
    temperature = raw(MODEL, "temperature_c", required(MODEL, readings, "temperature_c"), 1, "s8")
    latitude, longitude = number(MODEL, readings, "latitude"), number(MODEL, readings, "longitude")
    if (latitude is None) != (longitude is None):
        raise EncodeError(MODEL, "latitude and longitude go together")
    position = b""
    if latitude is not None and longitude is not None:
        if latitude == 0 and longitude == 0:
            raise EncodeError(MODEL, "latitude = longitude = 0 means no fix: leave both out")
        try:
            position = struct.pack("<ff", longitude, latitude)
        except OverflowError as exc:
            raise EncodeError(MODEL, "latitude/longitude do not fit a float32") from exc
    size = PLAIN + len(position)
    full = 0x10 if flag(MODEL, readings, "alarm") else 0  # full alarm, high nibble of b[11]
    fall = 0x10 if flag(MODEL, readings, "tilted") else 0  # fall alarm, high nibble of b[12]
    payload = (
        bytes([START, 0x00, 0x00, DATA_FRAME, size])
        + pack(distance, 2)
        + b"\x00"
        + position
        + pack(temperature, 1)
        + b"\x00\x00"
        + bytes([full, fall])
        + b"\x00\x00\x00"
        + bytes([END])
    )
    return FPORT, payload


# An ultrasonic sensor under a bin's lid: no bin is 5 m deep (the data sheet's range is
# shorter; this bounds it without claiming its figure).
CODECS = (Codec(MODEL, "bin", FPORT, decode, encode, limits={"distance_mm": (0, 5000)}),)
