"""Cayenne LPP: `[channel][type][value]` records, big-endian, on any fPort (devices.md, Generic).

Readings keep The Things Stack's names, `<type name>_<channel>` (`temperature_3`, `gps_1`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from bauhof.codecs.base import Codec, Decoded, DecodeError, EncodeError, Readings, ReadingValue
from bauhof.codecs.fields import check_frame, pack, raw, sint, uint

MODEL = "cayenne-lpp"
DEFAULT_FPORT = 1  # LPP runs on any fPort; the encoder sends on this one


@dataclass(frozen=True, slots=True)
class Part:
    """One integer in a record's value: its key in a compound value, width, sign and scale."""

    key: str | None  # None for a scalar value
    size: int
    signed: bool
    scale: int


@dataclass(frozen=True, slots=True)
class LppType:
    """A Cayenne LPP data type: the key prefix and the integers its value is made of."""

    prefix: str
    parts: tuple[Part, ...]

    @property
    def size(self) -> int:
        """The value's size in bytes."""
        return sum(part.size for part in self.parts)


def _scalar(prefix: str, size: int, signed: bool, scale: int) -> LppType:
    return LppType(prefix, (Part(None, size, signed, scale),))


def _triple(prefix: str, keys: tuple[str, str, str], size: int, scales: tuple[int, ...]) -> LppType:
    return LppType(prefix, tuple(Part(k, size, True, s) for k, s in zip(keys, scales, strict=True)))


# devices.md, cayenne-lpp table: type code -> name, size and scale.
TYPES: dict[int, LppType] = {
    0: _scalar("digital_in", 1, False, 1),
    1: _scalar("digital_out", 1, False, 1),
    2: _scalar("analog_in", 2, True, 100),
    3: _scalar("analog_out", 2, True, 100),
    101: _scalar("luminosity", 2, False, 1),
    102: _scalar("presence", 1, False, 1),
    103: _scalar("temperature", 2, True, 10),
    104: _scalar("relative_humidity", 1, False, 2),
    113: _triple("accelerometer", ("x", "y", "z"), 2, (1000, 1000, 1000)),
    115: _scalar("barometric_pressure", 2, False, 10),
    134: _triple("gyrometer", ("x", "y", "z"), 2, (100, 100, 100)),
    136: _triple("gps", ("latitude", "longitude", "altitude"), 3, (10000, 10000, 100)),
}
CODES = {lpp.prefix: code for code, lpp in TYPES.items()}
KEY = re.compile(r"(?P<prefix>[a-z_]+)_(?P<channel>\d{1,3})")


def _value(lpp: LppType, data: bytes) -> ReadingValue:
    values: dict[str, float] = {}
    at = 0
    for part in lpp.parts:
        number = sint(data, at, part.size) if part.signed else uint(data, at, part.size)
        at += part.size
        if part.key is None:
            return number if part.scale == 1 else number / part.scale
        values[part.key] = number / part.scale
    return values


def decode(fport: int, payload: bytes) -> Decoded:
    """Decode an LPP frame; an unknown type or a truncated record rejects the whole frame."""
    check_frame(MODEL, fport, payload)
    readings: Readings = {}
    warnings: list[str] = []
    at = 0
    while at < len(payload):
        channel = payload[at]
        if len(payload) - at < 2:
            raise DecodeError(
                MODEL, fport, f"truncated record at byte {at}: channel {channel} has no type"
            )
        code = payload[at + 1]
        lpp = TYPES.get(code)
        if lpp is None:
            raise DecodeError(
                MODEL, fport, f"unknown Cayenne LPP type {code} on channel {channel} at byte {at}"
            )
        data = payload[at + 2 : at + 2 + lpp.size]
        if len(data) < lpp.size:
            raise DecodeError(
                MODEL,
                fport,
                f"truncated record at byte {at}: {lpp.prefix} on channel {channel} "
                f"needs {lpp.size} bytes, {len(data)} left",
            )
        key = f"{lpp.prefix}_{channel}"
        if key in readings:
            warnings.append(f"{key} appears twice: the later value kept")
        readings[key] = _value(lpp, data)
        at += 2 + lpp.size
    return Decoded(readings, tuple(warnings))


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EncodeError(MODEL, f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise EncodeError(MODEL, f"{name} must be finite, not {value!r}")
    return float(value)


def _kind(part: Part) -> str:
    return f"{'s' if part.signed else 'u'}{8 * part.size}"


def _name(key: str, part: Part) -> str:
    return key if part.key is None else f"{key}.{part.key}"


def _record(key: str, value: ReadingValue) -> tuple[int, int, bytes]:
    match = KEY.fullmatch(key)
    code = None if match is None else CODES.get(match["prefix"])
    if match is None or code is None:
        raise EncodeError(MODEL, f"{key!r} is no <type>_<channel> name of a known LPP type")
    channel = int(match["channel"])
    if channel > 255:
        raise EncodeError(MODEL, f"{key}: channel {channel} does not fit a byte")
    lpp = TYPES[code]
    numbers: dict[str | None, float]
    if lpp.parts[0].key is None:
        numbers = {None: _number(key, value)}
    elif isinstance(value, dict) and set(value) == {part.key for part in lpp.parts}:
        numbers = {k: _number(f"{key}.{k}", v) for k, v in value.items()}
    else:
        keys = ", ".join(str(part.key) for part in lpp.parts)
        raise EncodeError(MODEL, f"{key} must be a mapping of {keys}, not {value!r}")
    data = b"".join(
        pack(raw(MODEL, _name(key, p), numbers[p.key], p.scale, _kind(p)), p.size)
        for p in lpp.parts
    )
    return channel, code, data


def encode(readings: Mapping[str, ReadingValue]) -> tuple[int, bytes]:
    """Encode `<type>_<channel>` readings as LPP records ordered by channel, then type code."""
    if not readings:
        raise EncodeError(MODEL, "no readings to encode")
    records = sorted(_record(key, value) for key, value in readings.items())
    return DEFAULT_FPORT, b"".join(bytes([channel, code]) + data for channel, code, data in records)


CODECS = (Codec(MODEL, "other", DEFAULT_FPORT, decode, encode),)
