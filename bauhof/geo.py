"""Places on the Earth: one radius, great-circle distances, and town-scale offsets.

Every part measures with the same sphere of radius `EARTH_RADIUS_M` (the database's
`bauhof_distance_m` uses it too). Great-circle distances use the haversine formula;
the simulator, which moves things a few metres at a time, uses the local flat
(equirectangular) projection: over a few kilometres it is within 0.1 % of the great circle:
x = R·Δλ·cos φ₀, y = R·Δφ, d = √(x² + y²).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

EARTH_RADIUS_M = 6_371_000.0
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180

Place = tuple[float, float]  # (latitude, longitude) in degrees


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def distances_m(places: Sequence[Place]) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres between every pair of places (row i, column j)."""
    import numpy as np

    coords = np.radians(np.asarray(places, dtype=float).reshape(-1, 2))
    lat, lon = coords[:, 0:1], coords[:, 1:2]
    dlat, dlon = lat.T - lat, lon.T - lon
    h = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    result: npt.NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))
    return result


def flat_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two nearby points on the local flat projection."""
    mean_lat = math.radians((lat1 + lat2) / 2)
    dx = (lon2 - lon1) * M_PER_DEG_LAT * math.cos(mean_lat)
    dy = (lat2 - lat1) * M_PER_DEG_LAT
    return math.hypot(dx, dy)


def offset(lat: float, lon: float, north_m: float, east_m: float) -> Place:
    """The point `north_m` north and `east_m` east of (lat, lon)."""
    dlat = north_m / M_PER_DEG_LAT
    dlon = east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def interpolate(a: Place, b: Place, fraction: float) -> Place:
    """The point `fraction` (0..1) of the way from a to b."""
    return a[0] + (b[0] - a[0]) * fraction, a[1] + (b[1] - a[1]) * fraction
