"""Physical plausibility: decoders say what the bytes say, this says whether it can be true.

Three kinds of limit: the general physical ones below, each model's own measuring range (its
codec's `limits`, e.g. an ultrasonic bin sensor's distance), and the town's area for
positions (a municipal vehicle's tracker does not report from the North Pole). Ingest
dead-letters a frame whose readings give any reason here; the rules engine turns that dead
letter into a `health.impossible` defect.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import NamedTuple

from bauhof import vocabulary
from bauhof.codecs.base import ReadingValue


class Region(NamedTuple):
    """Where positions are plausible: the town's assets and a margin around them."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @classmethod
    def around(cls, lat_min: float, lat_max: float, lon_min: float, lon_max: float,
               margin_deg: float) -> Region:
        """The box of the assets widened by `margin_deg` on every side."""
        return cls(lat_min - margin_deg, lat_max + margin_deg, lon_min - margin_deg,
                   lon_max + margin_deg)


# Half a degree (about 55 km north-south, 37 km east-west in central Europe): a town's vehicles
# reach its landfill and the neighbouring towns, not another country.
REGION_MARGIN_DEG = 0.5

# Inclusive limits beyond which a reading is a broken sensor or a wrong codec, not the world.
LIMITS: dict[str, tuple[float, float]] = {
    **vocabulary.LIMITS,
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


def check(readings: Mapping[str, ReadingValue], model: str | None = None,
          region: Region | None = None) -> list[str]:
    """Reasons why these readings cannot be physically true (for this model, in this town's
    region when given); empty when they can."""
    reasons: list[str] = []
    own = _model_limits(model) if model is not None else {}
    for name, value in readings.items():
        if name in own:
            reason = _reason(name, value, own[name])
            if reason is not None:
                reasons.append(reason + f" (the {model}'s range)")
            continue
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
    if region is not None and not reasons:
        reasons.extend(_outside(readings, region))
    return reasons


def _outside(readings: Mapping[str, ReadingValue], region: Region) -> list[str]:
    lat, lon = readings.get("latitude"), readings.get("longitude")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float) or (
            lat == 0 and lon == 0):
        return []  # no fix (0, 0 is how trackers say so), or no position at all
    if region.lat_min <= lat <= region.lat_max and region.lon_min <= lon <= region.lon_max:
        return []
    return [f"position {lat!r}, {lon!r} outside the town's area "
            f"{region.lat_min:.2f}..{region.lat_max:.2f}, "
            f"{region.lon_min:.2f}..{region.lon_max:.2f}"]


@functools.lru_cache(maxsize=64)
def _model_limits(model: str) -> Mapping[str, tuple[float, float]]:
    from bauhof import codecs

    try:
        return codecs.get(model).limits
    except codecs.UnknownModelError:
        return {}
