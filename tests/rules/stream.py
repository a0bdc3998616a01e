"""A small town's day and a half as ingest batches, for replay and restart tests."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.rules import factory as f


def town(conn: psycopg.Connection[Any]) -> None:
    """Two areas, one bin, and a third area whose probe falls silent."""
    f.area(conn, "ga1", dev=1)
    f.area(conn, "ga2", dev=4, lat=52.01)
    f.area(conn, "ga3", dev=5, lat=52.02)
    f.bin_(conn, "b1", dev=2)


def batches() -> list[list[dict[str, Any]]]:
    """Hourly batches, hour 0 … 39."""
    out = []
    for h in range(40):
        batch = [f.soil(1, h, 15.0 if h < 21 else 35.0), f.soil(4, h + 0.1, 30.0),
                 f.fill(2, h + 0.2, 3.0 * h if h < 28 else 5.0)]
        if h <= 10:
            batch.append(f.soil(5, h + 0.3, 25.0))
        out.append(batch)
    return out


def outcome(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Every order with its times, and its history events: what must not differ."""
    rows = conn.execute(
        "SELECT o.kind, o.rule, o.subject_id, o.status, o.opened_at, o.resolved_at, "
        "o.resolved_by, o.priority, array_agg(h.event ORDER BY h.id) FROM work_orders o "
        "JOIN order_history h ON h.order_id = o.id GROUP BY o.id ORDER BY o.id").fetchall()
    return [tuple(r) for r in rows]
