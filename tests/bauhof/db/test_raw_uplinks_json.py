"""Migration 0085: raw uplinks' `rx_info` and `object` become `json`; rows stored before it
read back as the same values, and rebuild the same events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bauhof import db
from bauhof.services import Postgres
from harness import town as town_mod
from simulator import archive, scenario
from simulator.clock import DAY_US, HOUR_US, to_us
from simulator.engine import Simulator
from simulator.recording import Message

START = to_us(datetime(2026, 6, 1, tzinfo=UTC))
EXAMPLE = Path(__file__).parents[3] / "examples" / "up-object.json"
RAW = ("SELECT time, dev_eui, deduplication_id, rx_info, object FROM raw_uplinks "
       "ORDER BY time, deduplication_id")
TYPES = ("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
         "WHERE attrelid = 'raw_uplinks'::regclass AND attname IN ('rx_info', 'object') "
         "ORDER BY attname")


def _feed(url: str, town: Any, start_us: int) -> None:
    """Two hours of the town from `start_us`, and the example event with ChirpStack's
    `object` (a device without a model), as ingest stores them."""
    example = EXAMPLE.read_bytes().replace(b"2026-06-01T06:00:33", b"2026-06-01T00:30:00")
    with db.connect(url, autocommit=True) as conn:
        town_mod.feed(conn, [*Simulator(town, seed=5, start_us=start_us,
                                        end_us=start_us + 2 * HOUR_US).messages(),
                             Message(START, "application/d029b9ac-7569-59e9-bf61-7f4188042be0/"
                                     "device/a840410000000105/event/up", example, "json")])


def _read(url: str) -> tuple[list[Any], list[bytes]]:
    """The raw rows as psycopg loads them, and the events `replay --from-db` rebuilds."""
    with db.connect(url) as conn:
        rows = conn.execute(RAW).fetchall()
    return rows, [m.payload for m in archive.from_database(url)]


def test_rows_stored_before_the_migration_read_back_the_same(
        pg_cluster: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    pg_cluster.create_database("before_0085")
    url = pg_cluster.url("before_0085")
    migrations = db.available_migrations()
    monkeypatch.setattr(db, "available_migrations",
                        lambda: [m for m in migrations if m.version < 85])
    db.migrate(url)
    with db.connect(url) as conn:
        assert conn.execute(TYPES).fetchall() == [("object", "jsonb"), ("rx_info", "jsonb")]
    town = town_mod.subset(scenario.load("herrenberg"), bins=10, green_areas=2)
    town_mod.load_assets(url, town)
    # Two weekly chunks: the second starts on 4 June 2026 (chunks are aligned to the epoch).
    _feed(url, town, START)
    _feed(url, town, START + 8 * DAY_US)
    before, events = _read(url)
    monkeypatch.undo()

    assert db.migrate(url) == ["0085_raw_uplinks_json.sql"]

    with db.connect(url) as conn:
        assert conn.execute(TYPES).fetchall() == [("object", "json"), ("rx_info", "json")]
        chunks = conn.execute("SELECT count(*) FROM show_chunks('raw_uplinks')").fetchone()
    assert chunks == (2,)
    after, events_after = _read(url)
    assert len(before) > 100
    assert sum(row[4] is not None for row in before) == 1
    assert after == before
    # Byte for byte, so also the order of every object's keys.
    assert events_after == events
