"""Retention drops whole chunks past each table's horizon and nothing newer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from bauhof import settings
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


def test_horizons_from_environment(tmp_path: Path) -> None:
    cfg = settings.load({"BAUHOF_RETAIN_RAW_UPLINKS_DAYS": "30"}, cwd=tmp_path)
    assert retention.horizons(cfg.retain_days) == {
        "raw_uplinks": 30, "readings": 1095, "device_status": 180, "device_events": 180,
        "ingest_batches": 7}
    with pytest.raises(SettingsError) as caught:
        settings.load({"BAUHOF_RETAIN_READINGS_DAYS": "a year"}, cwd=tmp_path)
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


def _simulated_june(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for i, day in enumerate((1, 10, 20, 29)):
        conn.execute(
            "INSERT INTO raw_uplinks (time, dev_eui, deduplication_id, application_id, f_cnt,"
            " f_port, payload) VALUES (%s, 'a840410000000001', %s, 'app', %s, 2, '\\x00')",
            (datetime(2026, 6, day, 12, tzinfo=UTC), f"00000000-0000-4000-8000-00000000000{i}",
             i))


def _days_left(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    return [int(str(r[0])) for r in conn.execute(
        "SELECT extract(day FROM time AT TIME ZONE 'UTC') FROM raw_uplinks ORDER BY time")]


def test_retention_refuses_to_drop_everything_and_measures_from_now(
        conn: psycopg.Connection[tuple[object, ...]], database_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from shell.main import main

    _simulated_june(conn)
    monkeypatch.setenv("BAUHOF_DATABASE_URL", database_url)
    monkeypatch.setenv("BAUHOF_RETAIN_RAW_UPLINKS_DAYS", "14")
    # Against the wall clock every simulated June row is past the horizon: a warning, no drop.
    wall = retention.apply(conn, {"raw_uplinks": 14},
                           now=datetime(2026, 12, 5, tzinfo=UTC))
    assert [(d.table, d.chunks) for d in wall] == [("raw_uplinks", 0)]
    assert wall[0].skipped == (
        "every row of raw_uplinks is older than 14 days (newest 2026-06-29, horizon "
        "2026-11-21): nothing dropped; for a copy of simulated data pass --now "
        "(e.g. --now 2026-06-29), or --force to drop them all")
    assert _days_left(conn) == [1, 10, 20, 29]
    assert main(["db", "retention"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("bauhof db retention: warning: every row of raw_uplinks is older "
                          "than 14 days (newest 2026-06-29, horizon ")
    assert err.count("\n") == 1
    assert _days_left(conn) == [1, 10, 20, 29]
    # Measured from the end of the simulated month, chunks before 16 June go.
    assert main(["db", "retention", "--now", "2026-06-30T00:00Z"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "raw_uplinks    keep 14 days: dropped 2 chunk(s)"
    assert _days_left(conn) == [20, 29]
    assert main(["db", "retention", "--now", "notadate"]) == 2
    assert capsys.readouterr().err == ("bauhof db: error: --now 'notadate': expected ISO 8601 "
                                       "like 2026-06-30T00:00Z\n")
    assert main(["db", "migrate", "--force"]) == 2
    assert capsys.readouterr().err == (
        "bauhof db: error: --now and --force are for `db retention`\n")
    assert main(["db", "retention", "--now", "2027-06-30", "--force"]) == 0
    assert _days_left(conn) == []
