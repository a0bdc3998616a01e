"""Sizes of green areas: the square metres a watering order is sized for."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bauhof.geo import EARTH_RADIUS_M


def polygon_m2(ring: Sequence[Sequence[float]]) -> float:
    """Area of a GeoJSON ring ([longitude, latitude] pairs) in square metres, on a local
    equirectangular projection (exact enough for a flower bed or a park)."""
    if len(ring) < 3:
        return 0.0
    lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
    xy = [(math.radians(p[0]) * math.cos(lat0) * EARTH_RADIUS_M,
           math.radians(p[1]) * EARTH_RADIUS_M) for p in ring]
    twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(xy, xy[1:] + xy[:1],
                                                                strict=True))
    return abs(twice) / 2


def size_m2(radius_m: float | None, polygon: object) -> float | None:
    """An area's size: its polygon's (the outer ring of a GeoJSON Polygon, or a bare ring),
    else the circle of its radius, else unknown."""
    ring: object = polygon
    if isinstance(polygon, dict):
        coordinates = polygon.get("coordinates")
        ring = coordinates[0] if isinstance(coordinates, list) and coordinates else None
    if isinstance(ring, list) and ring and all(
            isinstance(p, list | tuple) and len(p) >= 2 for p in ring):
        found = polygon_m2(ring)
        if found > 0:
            return found
    if radius_m:
        return math.pi * radius_m ** 2
    return None
