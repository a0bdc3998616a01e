"""A small town for the API tests, and orders opened the way the rules engine opens them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from bauhof.assignee import Assignee
from rules import orders
from rules.actions import Open
from tests.rules import factory as f


def build(conn: psycopg.Connection[Any]) -> None:
    """Sponsor sp1 of area ga1 (probe 1), bins b1 (sensor 2) and b2 (sensor 4), vehicle v1."""
    f.sponsor(conn, "sp1", email="pat@example.org", name="Pat Paten")
    conn.execute("UPDATE sponsors SET phone = '+49 7032 1234' WHERE id = 'sp1'")
    f.area(conn, "ga1", dev=1, sponsor_id="sp1", plant_type="flowers", lat=48.5930,
           lon=8.8650)
    f.bin_(conn, "b1", dev=2, threshold=80, lat=48.5960, lon=8.8700)
    f.bin_(conn, "b2", dev=4, lat=48.6100, lon=8.9000)
    f.vehicle(conn, "v1", dev=3)


def open_order(conn: psycopg.Connection[Any], rule: str, kind: str, subject_type: str,
               subject_id: str, *, hours: float = 0, priority: int = 3,
               value: float | None = None, params: dict[str, Any] | None = None,
               location: tuple[float, float] | None = None, assignee: str | None = None,
               due_h: float | None = 24) -> int:
    """An order opened through rules/orders.apply_open, as the engine does."""
    at = f.at(hours)
    with conn.transaction():
        order_id, created = orders.apply_open(conn, Open(
            rule=rule, kind=kind, subject_type=subject_type, subject_id=subject_id, at=at,
            title=f"{kind} {subject_id}", priority=priority, since=at, value=value,
            due_at=None if due_h is None else at + timedelta(hours=due_h),
            evidence=({"time": at.isoformat(), "dev_eui": f.eui(2), "name": "distance_mm",
                       "value": 190.0, "fill_pct": value},) if value is not None else (),
            params=params or {}, assignee=Assignee.parse(assignee) if assignee else None), "rules",
            location)
    assert created
    return order_id


def standard_orders(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Four orders: b1 full (P2), ga1 dry (P3), b2 full (P3, assigned to crew nord), device."""
    return {
        "b1": open_order(conn, "bins.full", "empty_bin", "bin", "b1", hours=1, priority=2,
                         value=90.0, params={"fill_threshold_pct": 80.0},
                         location=(48.5960, 8.8700)),
        "ga1": open_order(conn, "watering.dry", "watering", "green_area", "ga1", hours=2,
                          value=12.0, location=(48.5930, 8.8650)),
        "b2": open_order(conn, "bins.full", "empty_bin", "bin", "b2", hours=3, value=85.0,
                         location=(48.6100, 8.9000), assignee="crew:nord"),
        "dev": open_order(conn, "health.silent", "sensor_maintenance", "device", f.eui(3),
                          hours=4, priority=4, due_h=None),
    }


def two_ingest_workers(conn: psycopg.Connection[Any]) -> None:
    """Counters of two ingest workers: `a` current (lag 0.25 s), `b` last seen 5 minutes ago."""
    conn.execute(
        "INSERT INTO ingest_stats (worker, started_at, updated_at, received, stored, "
        "duplicates, dead_lettered, lag_s) VALUES "
        "('a', '2026-06-01T00:00:00Z', now(), 100, 90, 8, 2, 0.25), "
        "('b', '2026-06-01T00:00:00Z', now() - interval '5 minutes', 10, 10, 0, 0, 9.0)")
