"""Town-scale geometry: distances and offsets on a local flat projection.

Over a few kilometres the equirectangular projection is within 0.1 % of the great-circle
distance: x = R·Δλ·cos φ₀, y = R·Δφ, d = √(x² + y²), with R = 6 371 008.8 m (mean radius).
"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two nearby points."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = (lon2 - lon1) * M_PER_DEG_LAT * math.cos(mean_lat)
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point `north_m` north and `east_m` east of (lat, lon)."""
    dlat = north_m / M_PER_DEG_LAT
    dlon = east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def interpolate(
    a: tuple[float, float], b: tuple[float, float], fraction: float
) -> tuple[float, float]:
    """The point `fraction` (0..1) of the way from a to b (lat, lon pairs)."""
    return a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction
