"""Retention drops whole chunks past each table's horizon and nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from bauhof.db import retention
from bauhof.settings import SettingsError


def test_old_chunks_go_new_rows_stay(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    now = datetime.now(UTC)
    times = [now - timedelta(days=d) for d in (400, 200, 100, 1)]
    for i, t in enumerate(times):
        conn.execute(
            "INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, f_cnt,"
            " f_port, payload) VALUES (%s, 'a840410000000001', %s, 'app', %s, 2, '\\x00')",
            (t, f"00000000-0000-4000-8000-00000000000{i}", i))
        conn.execute(
            "INSERT INTO readings (time, dev_eui, deduplication_id) VALUES"
            " (%s, 'a840410000000001', %s)", (t, f"00000000-0000-4000-8000-00000000000{i}"))
    dropped = retention.apply(conn, {"raw_uplinks": 90, "readings": 365, "device_status": 0,
                                     "device_events": 180})
    assert [(d.table, d.chunks) for d in dropped] == [
        ("raw_uplinks", 3), ("readings", 1), ("device_events", 0)]
    assert conn.execute("SELECT count(*) FROM raw_uplinks").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (3,)


def test_horizons_from_environment() -> None:
    assert retention.horizons({"BAUHOF_RETAIN_RAW_UPLINKS_DAYS": "30"}) == {
        "raw_uplinks": 30, "readings": 1095, "device_status": 180, "device_events": 180,
        "ingest_batches": 7}
    with pytest.raises(SettingsError) as caught:
        retention.horizons({"BAUHOF_RETAIN_READINGS_DAYS": "a year"})
    assert str(caught.value) == "BAUHOF_RETAIN_READINGS_DAYS must be a whole number of days, " \
                                "got 'a year'"


def test_ingest_batches_go_once_old_and_read_by_every_rules_worker(
        conn: psycopg.Connection[tuple[object, ...]]) -> None:
    now = datetime.now(UTC)
    for days in (30, 20, 10, 1):
        conn.execute("INSERT INTO ingest_batches (committed_at, readings, worker)"
                     " VALUES (%s, 1, 'test')", (now - timedelta(days=days),))
    xids = [int(str(r[0])) for r in conn.execute(
        "SELECT xid FROM ingest_batches ORDER BY committed_at").fetchall()]
    # Two rules shards; the slower one has read the batches up to the 20-day-old one only.
    conn.execute("INSERT INTO rules_cursor (shard, shards, next_xid) VALUES"
                 " (0, 2, %s::text::xid8), (1, 2, %s::text::xid8)", (xids[1], xids[3]))
    dropped = retention.apply(conn, {"ingest_batches": 7})
    assert [(d.table, d.days, d.chunks) for d in dropped] == [("ingest_batches", 7, 1)]
    conn.execute("UPDATE rules_cursor SET next_xid = %s::text::xid8", (xids[3],))
    assert retention.apply(conn, {"ingest_batches": 7})[0].chunks == 2
    assert conn.execute("SELECT count(*) FROM ingest_batches").fetchone() == (1,)
