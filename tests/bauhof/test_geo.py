"""One sphere for every part: great-circle distances, the flat projection, offsets."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import psycopg
import pytest

from bauhof import geo

HERRENBERG = (48.5955, 8.8707)
DEPOT = (48.6031, 8.8562)


def test_one_degree_of_latitude_on_the_sphere() -> None:
    assert geo.EARTH_RADIUS_M == 6_371_000.0
    assert pytest.approx(111_194.926645, abs=1e-6) == geo.M_PER_DEG_LAT
    assert geo.distance_m(0.0, 8.0, 1.0, 8.0) == pytest.approx(111_194.926645, abs=1e-6)
    assert geo.distance_m(*HERRENBERG, *HERRENBERG) == 0.0
    # Antipodes: half the circumference, the haversine clipped at 1.
    assert geo.distance_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6_371_000, abs=1e-6)


def test_depot_to_centre_great_circle_and_flat_agree_within_a_millimetre() -> None:
    great = geo.distance_m(*DEPOT, *HERRENBERG)
    assert great == pytest.approx(1360.5457, abs=1e-4)
    assert geo.flat_distance_m(*DEPOT, *HERRENBERG) == pytest.approx(great, abs=1e-3)


def test_pairwise_matrix_is_the_scalar_distance() -> None:
    places = [HERRENBERG, DEPOT, (48.59, 8.88)]
    matrix = geo.distances_m(places)
    assert matrix.shape == (3, 3)
    assert np.diag(matrix).tolist() == [0.0, 0.0, 0.0]
    for i, a in enumerate(places):
        for j, b in enumerate(places):
            assert matrix[i, j] == pytest.approx(geo.distance_m(*a, *b), abs=1e-9)


def test_offset_moves_by_metres_and_back() -> None:
    lat, lon = geo.offset(*HERRENBERG, 100.0, -50.0)
    assert lat == pytest.approx(48.5955 + 100 / 111_194.926645, abs=1e-12)
    assert geo.flat_distance_m(*HERRENBERG, lat, lon) == pytest.approx(math.hypot(100, 50),
                                                                       abs=1e-3)
    assert geo.interpolate(HERRENBERG, (lat, lon), 0.5) == pytest.approx(
        ((48.5955 + lat) / 2, (8.8707 + lon) / 2), abs=1e-12)


def test_the_database_measures_on_the_same_sphere(conn: psycopg.Connection[Any]) -> None:
    for a, b in ((DEPOT, HERRENBERG), ((0.0, 8.0), (1.0, 8.0)), ((48.59, 8.88), DEPOT)):
        row = conn.execute("SELECT bauhof_distance_m(%s, %s, %s, %s)", (*a, *b)).fetchone()
        assert row is not None
        assert row[0] == pytest.approx(geo.distance_m(*a, *b), rel=1e-12)
