"""Day buckets of a device's readings from rollup_daily: the same answers as the readings."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from bauhof.db import retention
from tests.api import town
from tests.api.conftest import Tokens
from tests.rules import factory as f


def refresh(conn: psycopg.Connection[Any]) -> int:
    """Bring the roll-ups up to date; how many (device, hour) pairs it recomputed."""
    row = conn.execute("SELECT bauhof_refresh_rollups()").fetchone()
    assert row is not None
    return int(row[0])


def moisture(client: TestClient, tokens: Tokens, query: str) -> list[tuple[Any, ...]]:
    """(time, count, avg, min, max) of soil moisture per bucket for device 1."""
    series = client.get(f"/api/v1/devices/{f.eui(1)}/readings?names=soil_moisture_pct&{query}",
                        headers=tokens.planner).json()
    return [(p["time"], p["count"], p["avg"]["soil_moisture_pct"],
             p["min"]["soil_moisture_pct"], p["max"]["soil_moisture_pct"])
            for p in series["points"]]


@pytest.fixture
def days(conn: psycopg.Connection[Any], tokens: Tokens) -> None:
    """Two days of soil readings, rolled up; then a late reading and a third day, not yet."""
    town.build(conn)
    f.ingest(conn, [f.soil(1, h, m) for h, m in ((0, 10.0), (6, 20.0), (12, 30.0), (18, 40.0),
                                                 (24, 50.0), (30, 60.0))])
    assert refresh(conn) == 6
    f.ingest(conn, [f.soil(1, 3, 70.0), f.soil(1, 50, 80.0)])


DAYS = [("2026-06-01T00:00:00+00:00", 5, 34.0, 10.0, 70.0),
        ("2026-06-02T00:00:00+00:00", 2, 55.0, 50.0, 60.0),
        ("2026-06-03T00:00:00+00:00", 1, 80.0, 80.0, 80.0)]


def test_the_daily_rows_hold_sums_counts_and_extremes(conn: psycopg.Connection[Any],
                                                      days: None) -> None:
    row = conn.execute("SELECT uplinks, soil_moisture_pct_n, soil_moisture_pct_sum, "
                       "soil_moisture_pct_min, soil_moisture_pct_max, distance_mm_n, "
                       "distance_mm_sum FROM rollup_daily WHERE dev_eui = %s "
                       "AND bucket = '2026-06-01T00:00:00Z'", (f.eui(1),)).fetchone()
    assert row == (4, 4, 100.0, 10.0, 40.0, 0, None)
    assert refresh(conn) == 2  # the late reading's hour (and its day again), the new day's
    assert refresh(conn) == 0
    assert conn.execute("SELECT bucket, uplinks, soil_moisture_pct_sum FROM rollup_daily "
                        "WHERE dev_eui = %s ORDER BY bucket", (f.eui(1),)).fetchall() == [
        (f.at(0), 5, 170.0), (f.at(24), 2, 110.0), (f.at(48), 1, 80.0)]


def test_day_buckets_include_readings_written_since_the_refresh(
        client: TestClient, tokens: Tokens, days: None) -> None:
    assert moisture(client, tokens, "from=2026-06-01T00:00:00Z&to=2026-06-04T00:00:00Z"
                                    "&bucket=1d") == DAYS


def test_day_buckets_after_a_refresh_are_the_same(client: TestClient, tokens: Tokens,
                                                  conn: psycopg.Connection[Any],
                                                  days: None) -> None:
    assert refresh(conn) == 2
    assert moisture(client, tokens, "from=2026-06-01T00:00:00Z&to=2026-06-04T00:00:00Z"
                                    "&bucket=1d") == DAYS


@pytest.mark.parametrize("rolled_up", [False, True])
def test_partial_days_at_either_end_come_from_the_readings(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any], days: None,
        rolled_up: bool) -> None:
    if rolled_up:
        refresh(conn)
    assert moisture(client, tokens, "from=2026-06-01T03:00:00Z&to=2026-06-03T01:00:00Z"
                                    "&bucket=1d") == [
        ("2026-06-01T00:00:00+00:00", 4, 40.0, 20.0, 70.0),
        ("2026-06-02T00:00:00+00:00", 2, 55.0, 50.0, 60.0)]
    # Within one day there is no whole day to add up: the readings answer alone.
    assert moisture(client, tokens, "from=2026-06-01T05:00:00Z&to=2026-06-01T20:00:00Z"
                                    "&bucket=1d") == [
        ("2026-06-01T00:00:00+00:00", 3, 30.0, 20.0, 40.0)]


def test_week_buckets_add_up_days(client: TestClient, tokens: Tokens,
                                  conn: psycopg.Connection[Any], days: None) -> None:
    refresh(conn)
    f.ingest(conn, [f.soil(1, 7 * 24 + 1, 90.0)])
    # 2026-06-01 is a Monday, where TimescaleDB's week buckets start.
    assert moisture(client, tokens, "from=2026-06-01T00:00:00Z&to=2026-06-15T00:00:00Z"
                                    "&bucket=1w") == [
        ("2026-06-01T00:00:00+00:00", 8, 45.0, 10.0, 80.0),
        ("2026-06-08T00:00:00+00:00", 1, 90.0, 90.0, 90.0)]


def test_days_of_dropped_chunks_stay_for_the_dashboards_but_not_the_api(
        client: TestClient, tokens: Tokens, conn: psycopg.Connection[Any], days: None) -> None:
    f.ingest(conn, [f.soil(1, -24 * 5 * 365, 5.0)])
    assert refresh(conn) == 3
    five_years = "from=2021-06-01T00:00:00Z&to=2026-06-04T00:00:00Z&bucket=1d"
    assert moisture(client, tokens, five_years) == [
        ("2021-06-02T00:00:00+00:00", 1, 5.0, 5.0, 5.0), *DAYS]
    retention.apply(conn, {"readings": 3 * 365})
    assert conn.execute("SELECT bucket, uplinks FROM rollup_daily WHERE dev_eui = %s "
                        "ORDER BY bucket", (f.eui(1),)).fetchall() == [
        (f.at(-24 * 5 * 365), 1), (f.at(0), 5), (f.at(24), 2), (f.at(48), 1)]
    assert moisture(client, tokens, five_years) == DAYS
