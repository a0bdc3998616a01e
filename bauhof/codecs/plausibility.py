"""Physical plausibility: decoders say what the bytes say, this says whether it can be true.

Ingest dead-letters a frame whose readings give any reason here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from bauhof.codecs.base import ReadingValue

# Inclusive limits beyond which a reading is a broken sensor or a wrong codec, not the world.
LIMITS: dict[str, tuple[float, float]] = {
    "battery_v": (0, 5),
    "battery_pct": (0, 100),
    "temperature_c": (-60, 120),
    "soil_moisture_pct": (0, 100),
    "soil_temperature_c": (-40, 80),
    "soil_conductivity_us_cm": (0, 50000),  # sea water is about 50 000 µS/cm
    "distance_mm": (0, 20000),
    "latitude": (-90, 90),
    "longitude": (-180, 180),
    "altitude_m": (-500, 9000),
    "hdop": (0, 50),
    "roll_deg": (-180, 180),
    "pitch_deg": (-180, 180),
    # Cayenne LPP names (`<type>_<channel>`) that have a physical range.
    "temperature": (-60, 120),
    "relative_humidity": (0, 100),
    "barometric_pressure": (300, 1100),
}
# Compound Cayenne values: the limits of each of their keys.
COMPOUND_LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "gps": {"latitude": (-90, 90), "longitude": (-180, 180), "altitude": (-500, 9000)},
}
# `soil_moisture_pct_3` (a depth) and `temperature_5` (a Cayenne channel) share their base's limits.
SUFFIX = re.compile(r"(?P<base>.+?)_(?P<index>\d+)")


def _limit_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _reason(name: str, value: object, limits: tuple[float, float]) -> str | None:
    if type(value) not in (int, float) and (  # the common case first
            isinstance(value, bool) or not isinstance(value, int | float)):
        return None  # a flag or a word has no physical range
    low, high = limits
    if not low <= value <= high:  # type: ignore[operator]  # an int or a float, checked above
        # NaN compares false with everything, so it lands here as well.
        return f"{name} {value!r} outside {_limit_text(low)}..{_limit_text(high)}"
    return None


@functools.lru_cache(maxsize=4096)
def _base(name: str) -> str:
    if name in LIMITS or name in COMPOUND_LIMITS:
        return name
    match = SUFFIX.fullmatch(name)
    return name if match is None else match["base"]


def check(readings: Mapping[str, ReadingValue]) -> list[str]:
    """Reasons why these readings cannot be physically true; empty when they can."""
    reasons: list[str] = []
    for name, value in readings.items():
        base = _base(name)
        if isinstance(value, dict):
            for key, limits in COMPOUND_LIMITS.get(base, {}).items():
                reason = _reason(f"{name}.{key}", value.get(key), limits)
                if reason is not None:
                    reasons.append(reason)
        elif base in LIMITS:
            reason = _reason(name, value, LIMITS[base])
            if reason is not None:
                reasons.append(reason)
    return reasons
