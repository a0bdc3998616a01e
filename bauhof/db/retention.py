"""Retention: drop whole chunks older than each table's horizon (TimescaleDB `drop_chunks`).

The Apache-2 edition of TimescaleDB has `drop_chunks` but no background retention policies,
so Bauhof applies retention itself: `bauhof db retention`, run daily (cron, a systemd timer,
or the compose file's scheduler). Horizons are measured against the wall clock, which is why
ingest does not run this on its own: a developer replaying last spring's recording must not
see it vanish behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from bauhof.settings import SettingsError

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


def horizons(environ: dict[str, str]) -> dict[str, int]:
    """Days to keep per table: BAUHOF_RETAIN_<TABLE>_DAYS overrides; 0 keeps forever."""
    result: dict[str, int] = {}
    for table, default in DEFAULT_DAYS.items():
        name = f"BAUHOF_RETAIN_{table.upper()}_DAYS"
        raw = environ.get(name, "").strip()
        if not raw:
            result[table] = default
        elif raw.isdigit():
            result[table] = int(raw)
        else:
            raise SettingsError(f"{name} must be a whole number of days, got {raw!r}")
    return result


def apply(conn: psycopg.Connection[Any], keep_days: dict[str, int]) -> list[Dropped]:
    """Drop the chunks entirely older than each horizon."""
    dropped: list[Dropped] = []
    for table, days in keep_days.items():
        if days <= 0:
            continue
        if table == "ingest_batches":
            dropped.append(Dropped(table, days, _prune_batches(conn, days), "row(s)"))
            continue
        rows = conn.execute(
            "SELECT drop_chunks(%s::regclass, older_than => %s * INTERVAL '1 day')",
            (table, days),
        ).fetchall()
        if table == "readings" and rows:
            # The daily partial aggregates (migration 0033) of dropped days go too, so the
            # API's readings answer the same as the readings left. Chunk boundaries of whole
            # days (the 7-day default) fall on midnight UTC, so no remaining day is cut.
            conn.execute(
                "DELETE FROM readings_daily WHERE day < (SELECT coalesce(min(range_start), "
                "'infinity') FROM timescaledb_information.chunks "
                "WHERE hypertable_name = 'readings')")
        dropped.append(Dropped(table, days, len(rows)))
    return dropped


def _prune_batches(conn: psycopg.Connection[Any], days: int) -> int:
    """Delete ingest commits older than `days` that every rules worker has read (all of them
    older than `days` when no rules worker has run yet)."""
    cur = conn.execute(
        "DELETE FROM ingest_batches WHERE committed_at < now() - %s * INTERVAL '1 day' "
        "AND xid < coalesce((SELECT min(next_xid) FROM rules_cursor), pg_current_xact_id())",
        (days,))
    return cur.rowcount
