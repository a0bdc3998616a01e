"""The normalised reading vocabulary (DESIGN.md): every name a codec may produce that has its
own column in `readings`, with its kind, unit and physical range, in the table's column order.

Ingest stores by it, the rules and the API read by it, the plausibility check bounds by it;
the database's `readings` (and its daily aggregate of the numbers) has the same columns, which
tests/bauhof/test_vocabulary.py checks against a migrated database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["number", "flag", "word"]


@dataclass(frozen=True, slots=True)
class Quantity:
    """One reading name: a number (with unit and physical range), a flag or a short word."""

    name: str
    kind: Kind
    unit: str | None = None
    limits: tuple[float, float] | None = None  # inclusive; beyond is a broken sensor


READINGS: tuple[Quantity, ...] = (
    Quantity("battery_v", "number", "V", (0, 5)),
    Quantity("battery_pct", "number", "%", (0, 100)),
    Quantity("temperature_c", "number", "°C", (-60, 120)),
    Quantity("soil_moisture_pct", "number", "%", (0, 100)),
    Quantity("soil_temperature_c", "number", "°C", (-40, 80)),
    Quantity("soil_conductivity_us_cm", "number", "µS/cm", (0, 50000)),  # sea water ~50 000
    Quantity("distance_mm", "number", "mm", (0, 20000)),
    Quantity("tilted", "flag"),
    Quantity("latitude", "number", "°", (-90, 90)),
    Quantity("longitude", "number", "°", (-180, 180)),
    Quantity("altitude_m", "number", "m", (-500, 9000)),
    Quantity("hdop", "number", None, (0, 50)),
    Quantity("alarm", "flag"),
    Quantity("motion", "word"),
    Quantity("roll_deg", "number", "°", (-180, 180)),
    Quantity("pitch_deg", "number", "°", (-180, 180)),
)
BY_NAME = {q.name: q for q in READINGS}

# The names, in the column order of `readings`, and by kind (each in that order too).
NAMES: tuple[str, ...] = tuple(q.name for q in READINGS)
NUMERIC: tuple[str, ...] = tuple(q.name for q in READINGS if q.kind == "number")
FLAGS: tuple[str, ...] = tuple(q.name for q in READINGS if q.kind == "flag")
WORDS: tuple[str, ...] = tuple(q.name for q in READINGS if q.kind == "word")

# The PostgreSQL type of each kind's column.
SQL_TYPES: dict[Kind, str] = {"number": "float8", "flag": "bool", "word": "text"}

# Physical ranges of the numbers.
LIMITS: dict[str, tuple[float, float]] = {
    q.name: q.limits for q in READINGS if q.limits is not None
}


def sql_type(name: str) -> str:
    """The PostgreSQL type of the column `name`."""
    return SQL_TYPES[BY_NAME[name].kind]
