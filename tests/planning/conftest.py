"""A small town for the planning tests: a depot, two trucks, five bins with stated fills."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ApiSettings
from planning import settings as planning_settings
from tests.planning.factory import add_bin, add_fills, add_vehicle, linear

DEPOT = {"latitude": 48.6031, "longitude": 8.8562}


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The API on the test's database."""
    cfg = ApiSettings(database_url=database_url, media_dir=tmp_path / "media", pool_min=1,
                      pool_max=3)
    with TestClient(create_app(cfg)) as test_client:
        yield test_client


@pytest.fixture
def town(conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    """Readings Monday 00:00-10:00 UTC; planning Tuesday 2 June 2026 (shift 04:30 UTC):
    bin-1 90 % (threshold), bin-2 2 %/h to 30 % (overflow before Wednesday), bin-3 slow,
    bin-4 1 %/h to 50 % (over 80 % within 24 h: forecast), bin-5 without readings."""
    add_vehicle(conn, "veh-1", 2000)
    add_vehicle(conn, "veh-2", 500)
    add_vehicle(conn, "veh-3", None, kind="van")
    places = [(48.6000, 8.8600), (48.5980, 8.8700), (48.5960, 8.8800), (48.5940, 8.8650),
              (48.5920, 8.8750)]
    for number, (lat, lon) in enumerate(places, start=1):
        add_bin(conn, f"bin-{number}", lat, lon, sensor=number != 5)
    add_fills(conn, "bin-1", [(h, 90.0) for h in range(11)])
    add_fills(conn, "bin-2", linear(0, 10, 10.0, 2.0))
    add_fills(conn, "bin-3", linear(0, 10, 20.0, 0.5))
    add_fills(conn, "bin-4", linear(0, 10, 40.0, 1.0))
    planning_settings.save(conn, planning_settings.parse({
        "depot": DEPOT, "time_limit_s": 0.3, "preview_time_limit_s": 0.2}), "planner:test")
    return conn
