"""Per-asset overrides in table rule_overrides (what the API writes), over the rules file's."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from rules import orders, ruleset
from rules.engine import RulesEngine
from tests.rules import factory as f
from tests.rules.conftest import MakeEngine


def _set(conn: psycopg.Connection[Any], asset: str, section: str, params: Any) -> None:
    conn.execute(
        "INSERT INTO rule_overrides (asset_id, section, params, updated_by) "
        "VALUES (%s, %s, %s, 'test') ON CONFLICT (asset_id, section) DO UPDATE SET "
        "params = EXCLUDED.params", (asset, section, Jsonb(params)))


def _full(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return [(o.subject_id, o.status, o.opened_at, o.last_value)
            for o in orders.list_orders(conn, kind="empty_bin")]


def test_a_threshold_changed_in_the_table_is_used_from_the_next_step(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.bin_(conn, "b1", dev=2)
    f.bin_(conn, "b2", dev=4, lat=52.01)
    engine = make_engine()
    f.ingest(conn, [f.fill(2, 0, 72.0), f.fill(4, 0, 72.0)])
    engine.step()
    assert _full(conn) == []
    _set(conn, "b1", "bins", {"fill_threshold_pct": 70})
    f.ingest(conn, [f.fill(2, 1, 72.0), f.fill(4, 1, 72.0)])
    engine.step()
    assert _full(conn) == [("b1", "open", f.at(1), 72.0)]
    # Moved from b1 to b2: b2 opens at 70 %, and b1, emptied, is back at the file's 80 %.
    conn.execute("DELETE FROM rule_overrides WHERE asset_id = 'b1'")
    _set(conn, "b2", "bins", {"fill_threshold_pct": 70})
    f.ingest(conn, [f.fill(2, 2, 5.0), f.fill(4, 2, 72.0)])
    engine.step()
    f.ingest(conn, [f.fill(2, 3, 75.0)])
    engine.step()
    assert _full(conn) == [("b1", "resolved", f.at(1), 72.0), ("b2", "open", f.at(2), 72.0)]


def test_an_engine_started_after_the_change_uses_it(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1)
    _set(conn, "ga1", "watering", {"low_pct": 24, "clear_pct": 30, "sustain_h": 2})
    _set(conn, f.eui(1), "sensor_health", {"battery_low_pct": 50})
    engine = make_engine()
    for h in range(4):
        f.ingest(conn, [f.soil(1, h, 23.0, battery_pct=40.0)])
        engine.step()
    found = [(o.rule, o.subject_id, o.opened_at) for o in orders.list_orders(conn)]
    assert sorted(found) == [("health.battery", f.eui(1), f.at(1)),
                             ("watering.dry", "ga1", f.at(2))]


def test_a_row_the_rules_refuse_is_logged_once_and_ignored(
        conn: psycopg.Connection[Any], database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    f.bin_(conn, "b1", dev=2)
    f.area(conn, "ga1", dev=1)
    conn.execute("UPDATE green_areas SET moisture_low_pct = 26 WHERE id = 'ga1'")
    _set(conn, "b1", "bins", {"fill_threshold_pct": 150})
    _set(conn, "b2", "bins", {"fill_treshold_pct": 70})
    _set(conn, "b3", "bins", [70])
    # Valid on its own (above the file's 20 %), not with ga1's own low threshold of 26 %.
    _set(conn, "ga1", "watering", {"clear_pct": 25})
    # A wall clock a minute further on every step: the town (and parameters) are reloaded.
    wall = [f.at(24 * 365)]
    engine = RulesEngine(database_url, ruleset.load(), wall=lambda: wall[0])
    try:
        with caplog.at_level(logging.WARNING, logger="bauhof.rules"):
            for h in range(8):
                f.ingest(conn, [f.fill(2, h, 85.0), f.soil(1, h, 25.0)])
                engine.step()
                wall[0] += timedelta(minutes=1)
    finally:
        engine.close()
    found = [(o.rule, o.subject_id, o.opened_at) for o in orders.list_orders(conn)]
    # The rules file's parameters: bins full at 80 %, ga1 dry below its 26 % for 6 h.
    assert sorted(found) == [("bins.full", "b1", f.at(0)), ("watering.dry", "ga1", f.at(6))]
    suffix = "; the rules file's parameters apply (fix or delete the row)"
    assert [r.getMessage() for r in caplog.records] == [
        "rule_overrides 'b1' bins: fill_threshold_pct: Input should be less than or equal "
        "to 100" + suffix,
        "rule_overrides 'b2' bins: fill_treshold_pct: Extra inputs are not permitted" + suffix,
        "rule_overrides 'b3' bins: params must be an object of parameters, not list" + suffix,
        "rule_overrides ignored for watering ga1, the rules file's parameters apply: "
        "green area ga1: Value error, clear_pct (25.0) must be above low_pct (26.0): "
        "the gap is the hysteresis that stops orders flapping",
    ]
