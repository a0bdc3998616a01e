"""Every panel's SQL, with Grafana's macros and the variables expanded as Grafana does, run
against a database filled by the simulator (a day of a part of the default town through
ingest's Preparer and Writer), the rules engine, the planner and the roll-ups."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from bauhof.assignee import Assignee
from bauhof.services import Postgres
from dashboards import build, macros, rollups
from harness import town
from planning import previews
from planning import settings as planning_settings
from rules import orders, ruleset
from rules.actions import Open
from rules.engine import RulesEngine
from simulator import scenario
from tests.fixtures.services import TEMPLATE_DB

START = datetime(2026, 6, 1, tzinfo=UTC)
VARIABLES = {"threshold": "60", "horizon": "24", "api": "http://localhost:8000",
             "bin": "bin-0001"}
KINDS: dict[str, tuple[type, ...]] = {"time": (datetime,), "number": (int, float, Decimal),
                                      "text": (str,), "bool": (bool,)}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def filled(pg_cluster: Postgres) -> Iterator[str]:
    """A database with one simulated day of 20 bins, 4 green areas and the vehicles."""
    name = f"bauhof_panels_{next(_numbers)}"
    with psycopg.connect(pg_cluster.url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    url = pg_cluster.url(name)
    small = town.subset(scenario.load("herrenberg"), bins=20, green_areas=4)
    town.simulate(url, small, START, 1.0)
    engine = RulesEngine(url, ruleset.load(), wall=lambda: START + timedelta(days=1))
    try:
        engine.catch_up()
    finally:
        engine.close()
    with psycopg.connect(url, autocommit=True) as conn:
        depot = small.town.depot
        planning_settings.save(conn, planning_settings.parse({
            "depot": {"latitude": depot.latitude, "longitude": depot.longitude},
            "time_limit_s": 0.3, "preview_time_limit_s": 0.3}), "planner:test")
        previews.preview(conn, 60.0, 24.0)
        previews.create(conn, date(2026, 6, 2), by="planner:test",
                        overrides={"fill_threshold_pct": 60.0})
        _orders_and_devices(conn, small.green_areas[0].id, small.green_areas[0].sponsor)
        rollups.refresh(conn)
    yield url


def _orders_and_devices(conn: psycopg.Connection[Any], area: str, sponsor: str | None) -> None:
    """A watering request a sponsor answered, and a sensor that was never heard."""
    opened = START + timedelta(hours=9)
    with conn.transaction():
        order_id, _ = orders.apply_open(conn, Open(
            rule="watering.dry", kind="watering", subject_type="green_area", subject_id=area,
            at=opened, title="Water it", params={"sponsor_id": sponsor},
            assignee=Assignee.parse(f"sponsor:{sponsor}")), "rules")
    orders.transition(conn, order_id, "resolved", "rules", "wet again",
                      at=opened + timedelta(hours=5), resolved_by=f"sponsor:{sponsor}")
    conn.execute("INSERT INTO devices (dev_eui, model, kind, name) "
                 "VALUES ('00000000000000ff', 'dingtek-dc500', 'bin', 'never heard')")
    # What a running ingest worker keeps up to date.
    conn.execute("INSERT INTO ingest_stats (worker, started_at, updated_at, received, stored, "
                 "duplicates, dead_lettered, lag_s) VALUES ('ingest-1', %s, %s, 3100, 3000, "
                 "100, 0, 0.4)", (START, START + timedelta(days=1)))


PANELS = [(d.title, p) for d in build.dashboards() for p in d.panels]


@pytest.mark.parametrize(("dashboard", "panel"), PANELS,
                         ids=[f"{d}: {p.title}" for d, p in PANELS])
def test_panel_sql_returns_rows_of_its_shape(filled: str, dashboard: str, panel: Any) -> None:
    end = datetime.now(UTC) + timedelta(hours=1)
    sql = macros.expand(panel.query.sql, START - timedelta(days=1), end, VARIABLES,
                        interval="1h")
    with psycopg.connect(filled, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = on")
        cursor = conn.execute(sql)
        rows = cursor.fetchall()
        names = [c.name for c in cursor.description or []]
    assert names == [name for name, _ in panel.query.columns]
    assert rows, f"{dashboard}: {panel.title} returned no rows"
    for row in rows:
        for value, (name, kind) in zip(row, panel.query.columns, strict=True):
            assert value is None or isinstance(value, KINDS[kind]), (name, value)
    if panel.query.format == "time_series":
        times = [row[0] for row in rows]
        assert times == sorted(times)
