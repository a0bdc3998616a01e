"""From a decoded uplink to one row of the wide `readings` table."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from bauhof import vocabulary
from bauhof.codecs.base import ReadingValue

# The normalised vocabulary of DESIGN.md, in the column order of `readings`.
READING_COLUMNS = vocabulary.NAMES
BOOLEAN_COLUMNS = frozenset(vocabulary.FLAGS)
TEXT_COLUMNS = frozenset(vocabulary.WORDS)
_COLUMN_INDEX = {name: i for i, name in enumerate(READING_COLUMNS)}


class ReadingError(ValueError):
    """A reading value that cannot be stored."""


def split_readings(readings: Mapping[str, ReadingValue]) -> tuple[list[Any], str | None]:
    """The values for the reading columns, and the rest as a JSON object (or None)."""
    values: list[Any] = [None] * len(READING_COLUMNS)
    extra: dict[str, Any] = {}
    for name, value in readings.items():
        index = _COLUMN_INDEX.get(name)
        if index is not None:
            values[index] = _column_value(name, value)
        else:
            extra[name] = _extra_value(name, value)
    return values, (json.dumps(extra, separators=(",", ":")) if extra else None)


def _column_value(name: str, value: ReadingValue) -> Any:
    if type(value) is float and name not in BOOLEAN_COLUMNS and name not in TEXT_COLUMNS:
        if not math.isfinite(value):  # the common case first
            raise ReadingError(f"{name} is {value!r}, expected a finite number")
        return value
    if name in BOOLEAN_COLUMNS:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        raise ReadingError(f"{name} is {value!r}, expected a boolean")
    if name in TEXT_COLUMNS:
        if isinstance(value, str) and len(value) <= 32:
            return value
        raise ReadingError(f"{name} is {value!r}, expected a short word")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReadingError(f"{name} is {value!r}, expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ReadingError(f"{name} is {value!r}, expected a finite number")
    return number


def _extra_value(name: str, value: Any) -> Any:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ReadingError(f"{name} is {value!r}, expected a finite number")
        return value
    if isinstance(value, dict):
        return {str(k): _extra_value(f"{name}.{k}", v) for k, v in value.items()}
    raise ReadingError(f"{name} has an unsupported value {value!r}")


def readings_from_object(obj: Mapping[str, Any], keymap: Mapping[str, str]) -> dict[str, Any]:
    """Map a ChirpStack-decoded `object` to reading names; unmapped keys keep their name."""
    readings: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, str | list) or value is None:
            # Units in strings ("3.6 V") and arrays are not readings; keep scalars only.
            continue
        readings[keymap.get(key, key)] = value
    return readings
