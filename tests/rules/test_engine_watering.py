"""The watering rule end to end through the engine and the database."""

from __future__ import annotations

from typing import Any

import psycopg

from rules import orders
from tests.rules import factory as f
from tests.rules.conftest import MakeEngine


def test_dry_area_without_sponsor_opens_one_order_after_six_hours(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn, "ga1", dev=1)
    engine = make_engine()
    f.ingest(conn, [f.soil(1, h, 15.0) for h in range(6)])  # 0 h … 5 h: not yet 6 h
    assert engine.step() == 6
    assert f.orders(conn) == []
    f.ingest(conn, [f.soil(1, 6, 14.0), f.soil(1, 7, 13.0)])
    engine.step()
    (order,) = orders.list_orders(conn)
    assert (order.kind, order.status, order.subject_id, order.rule) == (
        "watering", "open", "ga1", "watering.dry")
    assert order.opened_at == f.at(6)
    assert order.condition_since == f.at(0)
    assert order.last_value == 13.0
    assert order.assignee is None
    assert [e["value"] for e in order.evidence] == [15.0, 14.0, 13.0]
    assert [h.event for h in orders.history(conn, order.id)] == ["opened"]
