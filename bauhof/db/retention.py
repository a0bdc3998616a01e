"""Retention: drop whole chunks older than each table's horizon (TimescaleDB `drop_chunks`).

The Apache-2 edition of TimescaleDB has `drop_chunks` but no background retention policies,
so Bauhof applies retention itself: `bauhof db retention`, run daily (cron, a systemd timer,
or the compose file's scheduler). Horizons are measured against the wall clock, which is why
ingest does not run this on its own: a developer replaying last spring's recording must not
see it vanish behind them. A copy of simulated data passes its own "now" (`--now`), and a
table whose every row is past its horizon is left alone (with a warning) unless forced: that
is far more often the wrong clock than a town that sent nothing for three months.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

# Defaults: raw uplinks are for replay and forensics; decoded readings feed dashboards and
# forecasts for years; status and log events are for operators.
DEFAULT_DAYS = {
    "raw_uplinks": 90,
    "readings": 3 * 365,
    "device_status": 180,
    "device_events": 180,
    # Not a hypertable: the rules engine's index of ingest commits (one row per batch, up to
    # ten a second per worker). Only rows behind every rules cursor go.
    "ingest_batches": 7,
}


@dataclass(frozen=True, slots=True)
class Dropped:
    """What one table lost."""

    table: str
    days: int
    chunks: int  # what went, in `unit`s
    unit: str = "chunk(s)"
    # Why nothing was dropped although the horizon said so (every row was past it).
    skipped: str | None = None


def horizons(retain_days: Mapping[str, int]) -> dict[str, int]:
    """Days to keep per table: the settings' `retain_days` (BAUHOF_RETAIN_<TABLE>_DAYS)
    override the defaults; 0 keeps forever."""
    return {table: retain_days.get(table, default) for table, default in DEFAULT_DAYS.items()}


def apply(conn: psycopg.Connection[Any], keep_days: dict[str, int],
          now: datetime | None = None, force: bool = False) -> list[Dropped]:
    """Drop the chunks entirely older than each horizon, measured back from `now` (default:
    the database's clock). A table whose newest row is past its horizon is skipped (its
    `skipped` says why) unless `force`."""
    dropped: list[Dropped] = []
    for table, days in keep_days.items():
        if days <= 0:
            continue
        if table == "ingest_batches":
            dropped.append(Dropped(table, days, _prune_batches(conn, days, now), "row(s)"))
            continue
        newest, cutoff = conn.execute(
            f"SELECT (SELECT max(time) FROM {table}), "  # noqa: S608 (a table of DEFAULT_DAYS)
            "coalesce(%s::timestamptz, now()) - %s * INTERVAL '1 day'", (now, days)).fetchone() \
            or (None, None)
        if newest is not None and newest < cutoff and not force:
            dropped.append(Dropped(table, days, 0, skipped=(
                f"every row of {table} is older than {days} days (newest {newest:%Y-%m-%d}, "
                f"horizon {cutoff:%Y-%m-%d}): nothing dropped; for a copy of simulated data "
                f"pass --now (e.g. --now {newest:%Y-%m-%d}), or --force to drop them all")))
            continue
        rows = conn.execute(
            "SELECT drop_chunks(%s::regclass, older_than => %s::timestamptz)",
            (table, cutoff),
        ).fetchall()
        if table == "readings" and rows:
            # The daily roll-up keeps the dropped days for the dashboards, but the API must
            # not add up their partial aggregates any more (it answers as the readings left
            # do). Chunk boundaries of whole days (the 7-day default) fall on midnight UTC,
            # so no remaining day is cut.
            # With no chunk left, nothing before the cutoff remains.
            conn.execute(
                "UPDATE rollup_state SET kept_from = (SELECT coalesce(min(range_start), %s) "
                "FROM timescaledb_information.chunks WHERE hypertable_name = 'readings') "
                "WHERE name = 'readings'", (cutoff,))
        dropped.append(Dropped(table, days, len(rows)))
    return dropped


def _prune_batches(conn: psycopg.Connection[Any], days: int, now: datetime | None) -> int:
    """Delete ingest commits older than `days` that every rules worker has read (all of them
    older than `days` when no rules worker has run yet). With `now` (simulated data) a
    commit's age is that of the newest reading it wrote."""
    cur = conn.execute(
        "DELETE FROM ingest_batches WHERE CASE WHEN %(now)s::timestamptz IS NULL "
        "THEN committed_at ELSE coalesce(max_time, committed_at) END "
        "< coalesce(%(now)s::timestamptz, now()) - %(days)s * INTERVAL '1 day' "
        "AND xid < coalesce((SELECT min(next_xid) FROM rules_cursor), pg_current_xact_id())",
        {"now": now, "days": days})
    return cur.rowcount
