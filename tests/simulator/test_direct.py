"""The direct path: a run split over worker processes, stored through ingest's pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from harness import town as town_mod
from simulator import scenario
from simulator.clock import HOUR_US, to_us
from simulator.direct import feed_parallel
from simulator.engine import Simulator
from simulator.truth import Truth

START = to_us(datetime(2026, 6, 1, tzinfo=UTC))


def test_every_uplink_of_the_run_is_stored_once(conn: psycopg.Connection[Any],
                                                database_url: str) -> None:
    town = town_mod.subset(scenario.load("herrenberg"), bins=12, green_areas=3)
    town_mod.load_assets(database_url, town)
    end = START + 6 * HOUR_US
    truth = Truth()
    whole = list(Simulator(town, seed=1, start_us=START, end_us=end, truth=truth).messages())
    uplinks = truth.counts["uplink"]
    # Six hours: 458 uplinks, 8 device status events, 6 weather messages.
    assert (len(whole), uplinks) == (472, 458)
    shares = feed_parallel(database_url, town, seed=1, start_us=START, end_us=end, workers=2,
                           name="test-direct")
    assert [s.messages for s in shares] == [253, 219]  # the weather in the first
    assert sum(s.messages for s in shares) == sum(s.stored for s in shares) == len(whole)
    assert sum(s.uplinks for s in shares) == uplinks
    assert sum(s.dead_lettered for s in shares) == 0
    assert conn.execute("SELECT count(*), count(DISTINCT deduplication_id) FROM raw_uplinks"
                        ).fetchone() == (uplinks, uplinks)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (uplinks,)
    assert conn.execute("SELECT count(*) FROM weather").fetchone() == (6,)
    assert conn.execute("SELECT count(*) FROM device_status").fetchone() == (8,)
    stored = {r[0] for r in conn.execute("SELECT deduplication_id::text FROM raw_uplinks")}
    sent = {m.payload.split(b'"')[3].decode() for m in whole if m.topic.endswith("/event/up")}
    assert stored == sent
    # Fed again, nothing is stored twice.
    again = feed_parallel(database_url, town, seed=1, start_us=START, end_us=end, workers=2,
                          name="test-direct")
    assert sum(s.stored for s in again) == 0
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (uplinks,)
