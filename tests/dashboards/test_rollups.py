"""Roll-ups maintained by bauhof_refresh_rollups: exact values, idempotent, late readings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from dashboards import rollups
from tests.planning.factory import add_bin, distance_for

HOUR_10 = datetime(2026, 6, 1, 10, tzinfo=UTC)


def reading(conn: psycopg.Connection[Any], minutes: float, dev_eui: str, asset: str,
            **values: float) -> None:
    """One reading `minutes` after 10:00 on 1 June 2026."""
    asset_type, asset_id = asset.split("/")
    names = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    conn.execute(
        f"INSERT INTO readings (time, dev_eui, deduplication_id, asset_type, asset_id, {names})"
        f" VALUES (%s, %s, %s, %s, %s, {marks})",
        (HOUR_10 + timedelta(minutes=minutes), dev_eui, uuid.uuid4(), asset_type, asset_id,
         *values.values()))


def hourly(conn: psycopg.Connection[Any], dev_eui: str) -> list[tuple[Any, ...]]:
    """(hour, uplinks, fill avg/min/max/last, emptyings, overflow, moisture avg/min, track)."""
    rows = conn.execute(
        "SELECT extract(hour FROM bucket)::int, uplinks, round(fill_avg::numeric, 6)::float8, "
        "round(fill_min::numeric, 6)::float8, round(fill_max::numeric, 6)::float8, "
        "round(fill_last::numeric, 6)::float8, emptyings, overflow_hours, soil_moisture_avg, "
        "soil_moisture_min, round(track_m::numeric, 2)::float8 FROM rollup_hourly "
        "WHERE dev_eui = %s ORDER BY bucket", (dev_eui,)).fetchall()
    return [tuple(r) for r in rows]


def fill(conn: psycopg.Connection[Any], minutes: float, pct: float) -> None:
    """A reading of bin-1 at a fill."""
    reading(conn, minutes, "0000000000000001", "bin/bin-1", distance_mm=distance_for(pct))


def test_refresh_computes_hours_days_and_town(conn: psycopg.Connection[Any]) -> None:
    add_bin(conn, "bin-1", 48.6, 8.87)
    for minutes, pct in ((0, 50), (20, 60), (40, 70), (60, 100), (80, 5), (100, 6)):
        fill(conn, minutes, pct)
    reading(conn, 5, "00000000000000a1", "green_area/ga-1", soil_moisture_pct=20.0)
    reading(conn, 35, "00000000000000a1", "green_area/ga-1", soil_moisture_pct=22.0)
    track = "00000000000000b1"
    reading(conn, 0, track, "vehicle/veh-1", latitude=48.600, longitude=8.870)
    reading(conn, 30, track, "vehicle/veh-1", latitude=48.601, longitude=8.870)
    reading(conn, 45, track, "vehicle/veh-1", latitude=0.0, longitude=0.0)
    reading(conn, 50, track, "vehicle/veh-1", latitude=48.601, longitude=8.871)

    assert rollups.refresh(conn) == 4
    assert hourly(conn, "0000000000000001") == [
        (10, 3, 60.0, 50.0, 70.0, 70.0, 0, 0, None, None, 0.0),
        (11, 3, 37.0, 5.0, 100.0, 6.0, 1, 1, None, None, 0.0)]
    assert hourly(conn, "00000000000000a1") == [
        (10, 2, None, None, None, None, 0, 0, 21.0, 20.0, 0.0)]
    # 0.001 degrees of latitude; the positions without a fix (0, 0) are skipped.
    assert hourly(conn, track)[0][-1] == 111.19
    daily = conn.execute(
        "SELECT dev_eui, uplinks, round(fill_avg::numeric, 6)::float8, fill_max, emptyings, "
        "overflow_hours FROM rollup_daily ORDER BY dev_eui").fetchall()
    assert tuple(daily[0]) == ("0000000000000001", 6, 48.5, 100.0, 1, 1)
    town = conn.execute(
        "SELECT extract(hour FROM bucket)::int, asset_type, devices, uplinks, emptyings, "
        "overflow_hours FROM rollup_town_hourly ORDER BY bucket, asset_type").fetchall()
    assert [tuple(r) for r in town] == [
        (10, "bin", 1, 3, 0, 0), (10, "green_area", 1, 2, 0, 0), (10, "vehicle", 1, 4, 0, 0),
        (11, "bin", 1, 3, 1, 1)]
    per_asset = conn.execute(
        "SELECT asset_type, asset_id, uplinks FROM rollup_asset_daily ORDER BY 1").fetchall()
    assert [tuple(r) for r in per_asset] == [
        ("bin", "bin-1", 6), ("green_area", "ga-1", 2), ("vehicle", "veh-1", 4)]


def test_an_hour_starts_from_the_reading_before_it(conn: psycopg.Connection[Any]) -> None:
    """Emptyings and track lengths cross hour ends: an hour's first reading is compared with
    the last one of the hour before, and with nothing older than that."""
    add_bin(conn, "bin-2", 48.6, 8.87)
    for minutes, pct in ((50, 90), (65, 10), (130, 80), (250, 20)):
        reading(conn, minutes, "0000000000000002", "bin/bin-2", distance_mm=distance_for(pct))
    track = "00000000000000b2"
    reading(conn, 55, track, "vehicle/veh-2", latitude=48.600, longitude=8.870)
    reading(conn, 65, track, "vehicle/veh-2", latitude=48.601, longitude=8.870)
    reading(conn, 200, track, "vehicle/veh-2", latitude=48.603, longitude=8.870)

    assert rollups.refresh(conn) == 7  # (device, hour) pairs: 4 of the bin, 3 of the track
    # 10:50 90 % -> 11:05 10 %: the emptying counts in hour 11; 12:10 80 % -> 14:10 20 %: hour
    # 13 has no reading, so hour 14 starts from nothing and has no emptying.
    assert [(h, n, e) for h, n, *_rest, e, _o, _a, _m, _t in hourly(conn, "0000000000000002")
            ] == [(10, 1, 0), (11, 1, 1), (12, 1, 0), (14, 1, 0)]
    assert [(h[0], h[-1]) for h in hourly(conn, track)] == [(10, 0.0), (11, 111.19), (13, 0.0)]


def test_refresh_is_idempotent_and_takes_late_readings(conn: psycopg.Connection[Any]) -> None:
    add_bin(conn, "bin-1", 48.6, 8.87)
    for minutes, pct in ((0, 50), (20, 60), (40, 70)):
        fill(conn, minutes, pct)
    assert rollups.refresh(conn) == 1
    assert rollups.refresh(conn) == 0
    before = hourly(conn, "0000000000000001")
    fill(conn, 50, 80)
    assert rollups.refresh(conn) == 1
    assert before == [(10, 3, 60.0, 50.0, 70.0, 70.0, 0, 0, None, None, 0.0)]
    assert hourly(conn, "0000000000000001") == [
        (10, 4, 65.0, 50.0, 80.0, 80.0, 0, 0, None, None, 0.0)]
    assert conn.execute("SELECT uplinks, fill_max FROM rollup_daily").fetchone() == (4, 80.0)
    assert conn.execute("SELECT uplinks FROM rollup_town_hourly").fetchone() == (4,)


def test_refresh_in_a_transaction_commits(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        add_bin(conn, "bin-1", 48.6, 8.87)
        fill(conn, 0, 50)
        conn.commit()
        assert rollups.refresh(conn) == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM rollup_hourly").fetchone() == (1,)
