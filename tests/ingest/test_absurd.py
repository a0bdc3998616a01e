"""Every absurd reading the simulator injects is dead-lettered and becomes health.impossible."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from harness import town as town_mod
from rules import ruleset
from rules.engine import RulesEngine
from simulator import scenario, truth
from simulator.clock import DAY_US, to_us
from simulator.engine import Simulator

START = datetime(2026, 6, 1, tzinfo=UTC)


def test_every_absurd_fault_is_dead_lettered_and_raises_impossible(
        conn: psycopg.Connection[Any], database_url: str, tmp_path: Path) -> None:
    small = town_mod.subset(scenario.load("herrenberg"), bins=20, green_areas=3)
    town_mod.load_assets(database_url, small)
    path = tmp_path / "truth.jsonl"
    ground = truth.Truth(path)
    engine = Simulator(small, seed=4, start_us=to_us(START), end_us=to_us(START) + DAY_US,
                       faults={"absurd": 0.05}, truth=ground)
    town_mod.feed(conn, engine.messages())
    ground.close()
    absurd = [e for e in truth.read(path) if e["kind"] == "uplink" and "absurd" in e["faults"]]
    kinds = {e["asset"].partition("/")[0] for e in absurd}
    assert kinds == {"green_area", "bin", "vehicle"}
    ids = [e["deduplication_id"] for e in absurd]
    stored = conn.execute("SELECT count(*) FROM raw_uplinks WHERE deduplication_id = "
                          "ANY(%s::uuid[])", (ids,)).fetchone()
    assert stored == (0,)
    dead = conn.execute("SELECT dev_eui, reason FROM dead_letters ORDER BY id").fetchall()
    assert len(dead) == len(absurd)
    assert all(reason.startswith("implausible readings: ") for _, reason in dead)
    assert sorted(d for d, _ in dead) == sorted(e["dev_eui"] for e in absurd)
    rules = RulesEngine(database_url, ruleset.load(), wall=lambda: START.replace(day=2))
    rules.catch_up()
    rules.close()
    defects = conn.execute("SELECT DISTINCT dev_eui FROM defects "
                           "WHERE rule = 'health.impossible'").fetchall()
    assert sorted(d for (d,) in defects) == sorted({e["dev_eui"] for e in absurd})
