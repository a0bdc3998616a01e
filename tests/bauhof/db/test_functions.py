"""Stored functions: one definition each in bauhof/db/functions/, re-applied by `db migrate`."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

from bauhof import db
from bauhof.assets import bin_fill_pct
from bauhof.services import Postgres
from tests.rules import factory as f

# (distance, empty, full) -> fill %: inside, at both ends, clamped beyond them, no distance,
# no geometry, and geometries that cannot be (empty not above full).
FILL = [
    ((550.0, 1000.0, 100.0), 50.0),
    ((500.0, 1000.0, 100.0), 55.55555555555556),
    ((1000.0, 1000.0, 100.0), 0.0),
    ((100.0, 1000.0, 100.0), 100.0),
    ((1200.0, 1000.0, 100.0), 0.0),
    ((50.0, 1000.0, 100.0), 100.0),
    ((0.0, 240.0, 0.0), 100.0),
    ((None, 1000.0, 100.0), None),
    ((500.0, None, 100.0), None),
    ((500.0, 1000.0, None), None),
    ((500.0, 100.0, 100.0), None),
    ((500.0, 100.0, 1000.0), None),
]


@pytest.mark.parametrize(("args", "expected"), FILL)
def test_sql_and_python_fill_agree(conn: psycopg.Connection[Any],
                                   args: tuple[float | None, ...], expected: float | None) -> None:
    row = conn.execute("SELECT bauhof_bin_fill_pct(%s::float8, %s::float8, %s::float8)",
                       args).fetchone()
    assert row == (expected,)
    assert bin_fill_pct(*args) == expected


def defined(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Every function of the public schema that no extension owns, with its definition."""
    rows = conn.execute(
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
    ).fetchall()
    return {str(name): str(body) for name, body in rows}


def test_every_stored_function_has_its_file(conn: psycopg.Connection[Any]) -> None:
    in_files = {name for file in db.stored_functions() for name in re.findall(
        r"CREATE OR REPLACE FUNCTION (\w+)\(", file.sql)}
    assert [file.name for file in db.stored_functions()] == [
        "10_geometry.sql", "20_triggers.sql", "30_planning.sql", "40_rollups.sql"]
    assert set(defined(conn)) == in_files == {
        "bauhof_distance_m", "bauhof_bin_fill_pct", "bauhof_append_only",
        "rule_overrides_changed", "bauhof_auth_changed", "bauhof_curve_at",
        "bauhof_refresh_rollups"}
    for file in db.stored_functions():
        assert "CREATE FUNCTION" not in file.sql  # re-applied: CREATE OR REPLACE only


def test_migrate_reapplies_the_files_without_pending_migrations(
        conn: psycopg.Connection[Any], database_url: str) -> None:
    before = defined(conn)
    conn.execute("CREATE OR REPLACE FUNCTION bauhof_distance_m(lat1 double precision, "
                 "lon1 double precision, lat2 double precision, lon2 double precision) "
                 "RETURNS double precision LANGUAGE sql IMMUTABLE AS $$ SELECT 0.0::float8 $$")
    assert defined(conn) != before
    assert db.migrate(database_url) == []
    assert defined(conn) == before
    assert conn.execute("SELECT round(bauhof_distance_m(48.6, 8.87, 48.601, 8.87)::numeric, 2)"
                        "::float8"
                        ).fetchone() == (111.19,)


def test_no_migration_defines_a_function() -> None:
    for migration in db.available_migrations():
        assert not re.search(r"CREATE (OR REPLACE )?FUNCTION", migration.sql), migration.name


def test_migration_0062_has_the_daily_rollup_rebuilt_from_the_readings(
        pg_cluster: Postgres) -> None:
    pg_cluster.create_database("before_0062")
    with psycopg.connect(pg_cluster.url("before_0062"), autocommit=True) as conn:
        conn.execute("SET check_function_bodies = off")
        for part in [*db.stored_functions(),
                     *[m for m in db.available_migrations() if m.version < 62]]:
            conn.execute(part.sql.encode())
        f.ingest(conn, [f.soil(1, h, m) for h, m in ((0, 10.0), (6, 20.0), (12, 30.0),
                                                     (18, 40.0))])
        # Daily rows as 0031 wrote them: one of a day whose readings retention dropped, one
        # of a day that still has its readings.
        for day in ("2025-01-01", "2026-06-01"):
            conn.execute("INSERT INTO rollup_daily (bucket, dev_eui, uplinks, battery_v) "
                         "VALUES (%s, %s, 9, 3.5)", (day, f.eui(1)))
        conn.execute("UPDATE rollup_state SET next_xid = pg_snapshot_xmin(pg_current_snapshot())")
        (migration,) = [m for m in db.available_migrations() if m.version == 62]
        conn.execute(migration.sql.encode())
        oldest_chunk = conn.execute("SELECT min(range_start) FROM timescaledb_information.chunks "
                                    "WHERE hypertable_name = 'readings'").fetchone()
        assert conn.execute("SELECT name, next_xid::text, kept_from FROM rollup_state"
                            ).fetchall() == [("readings", "1", *(oldest_chunk or ()))]
        assert conn.execute("SELECT bucket::date::text, uplinks FROM rollup_daily"
                            ).fetchall() == [("2025-01-01", 9)]
        conn.execute("SET check_function_bodies = on")
        for functions in db.stored_functions():
            conn.execute(functions.sql.encode())
        assert conn.execute("SELECT bauhof_refresh_rollups()").fetchone() == (4,)
        assert conn.execute(
            "SELECT bucket::date::text, uplinks, soil_moisture_pct_n, soil_moisture_pct_sum, "
            "battery_v_n FROM rollup_daily ORDER BY bucket").fetchall() == [
            ("2025-01-01", 9, 0, None, 0), ("2026-06-01", 4, 4, 100.0, 4)]
