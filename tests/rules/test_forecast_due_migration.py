"""Migration 0040: open forecast orders opened before the change become due at their forecast."""

from __future__ import annotations

from typing import Any

import psycopg

from bauhof import db
from rules import orders
from tests.api.town import open_order
from tests.rules import factory as f


def test_open_forecast_orders_get_their_forecast_as_due_time(
        conn: psycopg.Connection[Any]) -> None:
    forecast = {"reason": "forecast", "forecast_full_at": f.at(120).isoformat()}
    old = open_order(conn, "bins.full", "empty_bin", "bin", "b1", params=forecast, due_h=24)
    done = open_order(conn, "bins.full", "empty_bin", "bin", "b2", params=forecast, due_h=24)
    orders.transition(conn, done, "done", "crew:nord")
    plain = open_order(conn, "bins.full", "empty_bin", "bin", "b3",
                       params={"reason": "threshold"}, due_h=24)
    (migration,) = [m for m in db.available_migrations() if m.version == 40]
    conn.execute(migration.sql)
    due = dict(conn.execute("SELECT id, due_at FROM work_orders").fetchall())
    assert due == {old: f.at(120), done: f.at(24), plain: f.at(24)}
