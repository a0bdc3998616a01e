"""Byte-level helpers of the codecs: integer fields, reading lookup, range-checked packing."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from functools import cache
from typing import Literal

from bauhof.codecs.base import DecodeError, EncodeError, ReadingValue

ByteOrder = Literal["big", "little"]


def uint(data: bytes, start: int, size: int, order: ByteOrder = "big") -> int:
    """The unsigned integer in `data[start:start + size]` (byte order "big" or "little")."""
    return int.from_bytes(data[start : start + size], order)


def sint(data: bytes, start: int, size: int, order: ByteOrder = "big") -> int:
    """The two's complement signed integer in `data[start:start + size]`."""
    return int.from_bytes(data[start : start + size], order, signed=True)


def check_fport(model: str, fport: int, expected: int) -> None:
    """Raise DecodeError("unknown fPort") unless `fport` is the model's uplink port."""
    if fport != expected:
        raise DecodeError(model, fport, "unknown fPort")


def check_frame(model: str, fport: int, payload: bytes, expected_fport: int | None = None) -> None:
    """Raise DecodeError unless the frame came on the model's uplink port (when it has only one)
    and holds at least one byte."""
    if expected_fport is not None:
        check_fport(model, fport, expected_fport)
    if not payload:
        raise DecodeError(model, fport, "empty payload")


def check_length(model: str, fport: int, payload: bytes, sizes: Collection[int]) -> None:
    """Raise DecodeError unless a fixed-layout frame has one of the allowed `sizes`."""
    check_frame(model, fport, payload)
    n = len(payload)
    if n in sizes:
        return
    allowed = sorted(sizes)
    expected = ", ".join(str(s) for s in allowed[:-1])
    expected = f"{expected} or {allowed[-1]}" if expected else str(allowed[-1])
    if n < allowed[0]:
        raise DecodeError(model, fport, f"truncated frame: {n} bytes, expected {expected}")
    if n > allowed[-1]:
        raise DecodeError(model, fport, f"oversized frame: {n} bytes, expected {expected}")
    raise DecodeError(model, fport, f"unexpected frame length: {n} bytes, expected {expected}")


def check_names(model: str, readings: Mapping[str, ReadingValue], known: Collection[str]) -> None:
    """Raise EncodeError for a reading name this model's format has no place for."""
    unknown = readings.keys() - known
    if unknown:
        raise EncodeError(model, f"no field for reading {', '.join(sorted(unknown))}")


def number(model: str, readings: Mapping[str, ReadingValue], name: str) -> float | None:
    """The reading `name` as a finite number, None when absent; EncodeError when not a number."""
    if name not in readings:
        return None
    value = readings[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EncodeError(model, f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise EncodeError(model, f"{name} must be finite, not {value!r}")
    return value


def required(model: str, readings: Mapping[str, ReadingValue], name: str) -> float:
    """The reading `name` as a finite number; EncodeError when it is missing."""
    value = number(model, readings, name)
    if value is None:
        raise EncodeError(model, f"missing reading {name}")
    return value


def flag(model: str, readings: Mapping[str, ReadingValue], name: str) -> bool | None:
    """The boolean reading `name`, None when absent; EncodeError when not a boolean."""
    if name not in readings:
        return None
    value = readings[name]
    if not isinstance(value, bool):
        raise EncodeError(model, f"{name} must be true or false, not {value!r}")
    return value


def word(
    model: str, readings: Mapping[str, ReadingValue], name: str, words: Collection[str]
) -> str | None:
    """The enumerated reading `name` (one of `words`), None when absent; EncodeError otherwise."""
    if name not in readings:
        return None
    value = readings[name]
    if not isinstance(value, str) or value not in words:
        raise EncodeError(model, f"{name} must be one of {', '.join(words)}, not {value!r}")
    return value


def raw(model: str, name: str, value: float, scale: float, kind: str) -> int:
    """`value * scale` rounded into a `kind` field ("u16", "s32"); EncodeError if it won't fit."""
    scaled = round(value * scale)
    low, high = _bounds(kind)
    if not low <= scaled <= high:
        raise EncodeError(model, f"{name} {value!r} does not fit the field ({kind} / {scale:g})")
    return scaled


@cache
def _bounds(kind: str) -> tuple[int, int]:
    """The smallest and largest value of a `kind` field."""
    signed, bits = kind[0] == "s", int(kind[1:])
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def pack(value: int, size: int, order: ByteOrder = "big") -> bytes:
    """`value` (already range-checked by `raw`) as `size` bytes, two's complement if negative."""
    return value.to_bytes(size, order, signed=value < 0)
