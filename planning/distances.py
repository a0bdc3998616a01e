"""Distance and travel-time matrices between the depot and the bins.

Without a routing engine: the great-circle (haversine) distance times a road factor (streets
are not straight; 1.3 is typical for a small town's grid), driven at a mean speed. With one:
the matrix of an OSRM `table` service response (`annotations=distance,duration`), fetched
from `osrm_url` or read from a file in the same format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from bauhof import geo
from bauhof.geo import Place
from planning import MatrixError

IntMatrix = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Matrix:
    """Whole metres and seconds from place i to place j."""

    distances_m: IntMatrix
    durations_s: IntMatrix
    source: str


def road(places: list[Place], road_factor: float, speed_kmh: float) -> Matrix:
    """Haversine times road factor, driven at speed_kmh."""
    metres = geo.distances_m(places) * road_factor
    seconds = metres / (speed_kmh / 3.6)
    return Matrix(np.rint(metres).astype(np.int64), np.rint(seconds).astype(np.int64),
                  f"haversine x {road_factor:g} at {speed_kmh:g} km/h")


def from_osrm(table: dict[str, Any], places: list[Place], source: str = "OSRM") -> Matrix:
    """The matrix of an OSRM table response for these places (in the same order)."""
    if table.get("code") != "Ok":
        raise MatrixError(source, f"OSRM answered code {table.get('code')!r}: "
                                  f"{table.get('message', 'no message')}")
    n = len(places)
    found = {}
    for key in ("distances", "durations"):
        values = table.get(key)
        if values is None:
            raise MatrixError(source, f"no {key!r}: ask the table service for "
                                      "annotations=distance,duration")
        if len(values) != n or any(len(row) != n for row in values):
            raise MatrixError(source, f"{key!r} is not {n} x {n} (one row and column per "
                                      "place, depot first)")
        if any(v is None for row in values for v in row):
            raise MatrixError(source, f"{key!r} has null entries: a place is not reachable "
                                      "by road from another")
        found[key] = np.rint(np.asarray(values, dtype=float)).astype(np.int64)
    return Matrix(found["distances"], found["durations"], source)


def load_osrm_file(path: Path, places: list[Place]) -> Matrix:
    """An OSRM table response saved as a JSON file."""
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MatrixError(str(path), f"cannot read it: {exc}") from exc
    return from_osrm(table, places, str(path))


def fetch_osrm(url: str, places: list[Place], timeout_s: float = 10.0) -> Matrix:
    """Ask an OSRM server's table service for the matrix."""
    coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in places)
    endpoint = f"{url.rstrip('/')}/table/v1/driving/{coords}"
    try:
        response = httpx.get(endpoint, params={"annotations": "distance,duration"},
                             timeout=timeout_s)
        table = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise MatrixError(url, f"the table service did not answer usefully: {exc}") from exc
    return from_osrm(table, places, url)


def matrix(places: list[Place], *, road_factor: float, speed_kmh: float,
           osrm_url: str | None = None) -> Matrix:
    """The routing engine's matrix when one is configured, else haversine times road factor."""
    if osrm_url:
        return fetch_osrm(osrm_url, places)
    return road(places, road_factor, speed_kmh)
