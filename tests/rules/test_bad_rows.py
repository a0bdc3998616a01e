"""A bad row of readings never stops the rules engine: it is dead-lettered with the reason and
the readings after it are evaluated (issue 13)."""

from __future__ import annotations

import math
from typing import Any

import psycopg

from tests.rules import factory as f
from tests.rules.conftest import MakeEngine


def test_rows_the_rules_cannot_use_are_dead_lettered_and_the_engine_goes_on(
        conn: psycopg.Connection[Any], make_engine: MakeEngine) -> None:
    f.area(conn)
    f.bin_(conn)
    f.vehicle(conn)
    engine = make_engine()
    f.ingest(conn, [f.soil(1, 0, 30), f.fill(2, 0, 10), f.position(3, 0, 52.0, 13.0)])
    engine.step()
    # Rows no ingest of today writes, but a replay, an import or an older version may have.
    f.ingest(conn, [f.soil(1, 1, math.nan), {**f.fill(2, 1, 50), "distance_mm": math.inf},
                    f.position(3, 1, 52.0, 200.0)])
    engine.step()
    f.ingest(conn, [f.soil(1, 30, 5), f.soil(1, 40, 5), f.fill(2, 30, 99)])
    engine.step()
    # (The probes' silence between the hours is noticed as well; not this test's concern.)
    assert sorted((o[1], o[2], o[3]) for o in f.orders(conn)
                  if o[1] in ("empty_bin", "watering")) == [
        ("empty_bin", "open", "b1"), ("watering", "open", "ga1")]
    assert conn.execute("SELECT topic, dev_eui, reason FROM dead_letters ORDER BY dev_eui"
                        ).fetchall() == [
        (f"rules/readings/{f.eui(1)}", f.eui(1),
         "rules engine refused the reading: soil_moisture_pct is nan, not a finite number"),
        (f"rules/readings/{f.eui(2)}", f.eui(2),
         "rules engine refused the reading: distance_mm is inf, not a finite number"),
        (f"rules/readings/{f.eui(3)}", f.eui(3),
         "rules engine refused the reading: longitude 200.0 is off the globe"),
    ]
