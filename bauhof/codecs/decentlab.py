"""Decentlab DL-SMTP: soil moisture and temperature at eight depths (devices.md, optional).

Readings per depth k = 0..7 are `soil_moisture_pct_<k>` and `soil_temperature_c_<k>`; the
shallowest probe present also gives the plain `soil_moisture_pct` and `soil_temperature_c`
that the soil rules read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bauhof.codecs.base import Codec, Decoded, DecodeError, EncodeError, Readings, ReadingValue
from bauhof.codecs.fields import check_frame, number, pack, required, uint

MODEL = "decentlab-dl-smtp"
FPORT = 1
PROTOCOL_VERSION = 2
DEPTHS = 8
SOIL_FLAG = 0x0001  # 16 words follow: moisture and temperature for each depth
BATTERY_FLAG = 0x0002  # one word follows: battery voltage
HEADER = 5  # version, device id (2), flags (2)

# devices.md: moisture (x - 2500) / 500, temperature (x - 32768) / 100 °C; a word of 0 = absent.
MOISTURE = (2500, 500)
TEMPERATURE = (32768, 100)
PER_DEPTH = re.compile(r"(?P<name>soil_moisture_pct|soil_temperature_c)_(?P<depth>[0-7])")


def decode(fport: int, payload: bytes) -> Decoded:
    """Decode a DL-SMTP protocol 2 frame (fPort 1) into per-depth soil readings and battery."""
    check_frame(MODEL, fport, payload, FPORT)
    if payload[0] != PROTOCOL_VERSION:
        raise DecodeError(MODEL, fport, f"unsupported protocol version {payload[0]}")
    if len(payload) < HEADER:
        raise DecodeError(
            MODEL, fport, f"truncated frame: {len(payload)} bytes, header alone is {HEADER}"
        )
    flags = uint(payload, 3, 2)
    if flags & ~(SOIL_FLAG | BATTERY_FLAG):
        raise DecodeError(MODEL, fport, f"unknown sensor flags 0x{flags:04X}")
    expected = HEADER + (32 if flags & SOIL_FLAG else 0) + (2 if flags & BATTERY_FLAG else 0)
    if len(payload) != expected:
        size = "truncated" if len(payload) < expected else "oversized"
        raise DecodeError(
            MODEL, fport, f"{size} frame: {len(payload)} bytes, expected {expected}"
        )
    readings: Readings = {}
    warnings: list[str] = []
    at = HEADER
    if flags & SOIL_FLAG:
        for depth in range(DEPTHS):
            for name, (offset, scale) in (
                ("soil_moisture_pct", MOISTURE),
                ("soil_temperature_c", TEMPERATURE),
            ):
                word = uint(payload, at, 2)
                at += 2
                if word:
                    readings[f"{name}_{depth}"] = (word - offset) / scale
                    readings.setdefault(name, readings[f"{name}_{depth}"])
        if not readings:
            warnings.append("no soil probe present at any depth")
    if flags & BATTERY_FLAG:
        readings["battery_v"] = uint(payload, at, 2) / 1000
    return Decoded(readings, tuple(warnings))


def _word(name: str, value: float, offset: int, scale: int) -> int:
    word = round(value * scale) + offset
    if not 1 <= word <= 0xFFFF:  # 0 would say "probe absent"
        raise EncodeError(MODEL, f"{name} {value!r} does not fit the field")
    return word


def encode(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode per-depth soil readings (or the plain ones, as depth 0) and battery_v."""
    words = {"soil_moisture_pct": [0] * DEPTHS, "soil_temperature_c": [0] * DEPTHS}
    plain: dict[str, float] = {}
    for key in readings:
        match = PER_DEPTH.fullmatch(key)
        if match is not None:
            offset, scale = MOISTURE if match["name"] == "soil_moisture_pct" else TEMPERATURE
            value = required(MODEL, readings, key)
            words[match["name"]][int(match["depth"])] = _word(key, value, offset, scale)
        elif key in words:
            plain[key] = required(MODEL, readings, key)
        elif key != "battery_v":
            raise EncodeError(MODEL, f"no field for reading {key}")
    for name, value in plain.items():
        offset, scale = MOISTURE if name == "soil_moisture_pct" else TEMPERATURE
        word = _word(name, value, offset, scale)
        present = [w for w in words[name] if w]
        if not present:
            words[name][0] = word
        elif present[0] != word:
            raise EncodeError(MODEL, f"{name} {value!r} differs from the shallowest {name}_<k>")
    battery = number(MODEL, readings, "battery_v")
    soil = any(any(column) for column in words.values())
    flags = (SOIL_FLAG if soil else 0) | (BATTERY_FLAG if battery is not None else 0)
    if not flags:
        raise EncodeError(MODEL, "no readings to encode")
    payload = bytes([PROTOCOL_VERSION]) + pack(0, 2) + pack(flags, 2)  # device id 0
    if soil:
        for depth in range(DEPTHS):
            payload += pack(words["soil_moisture_pct"][depth], 2)
            payload += pack(words["soil_temperature_c"][depth], 2)
    if battery is not None:
        word = round(battery * 1000)
        if not 0 <= word <= 0xFFFF:
            raise EncodeError(MODEL, f"battery_v {battery!r} does not fit the field")
        payload += pack(word, 2)
    return FPORT, payload


CODECS = (Codec(MODEL, "soil", FPORT, decode, encode),)
