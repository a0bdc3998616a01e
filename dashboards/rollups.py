"""The roll-ups the heavy panels read (rollup_hourly, rollup_daily and their per-asset
views), brought up to date by `bauhof_refresh_rollups()` (migration 0031).

Call `refresh` after ingest commits (it only recomputes the hours that received readings since
the last call, so calling it often is cheap), or run `bauhof dashboards rollups --every 60`.
"""

from __future__ import annotations

from typing import Any

import psycopg


def refresh(conn: psycopg.Connection[Any]) -> int:
    """Recompute the hours (and their days) touched since the last refresh; how many hours.

    The API's daily partial aggregates of readings (readings_daily, migration 0033) are
    brought up to date in the same transaction.
    """
    row = conn.execute("SELECT bauhof_refresh_rollups(), bauhof_refresh_readings_daily()"
                       ).fetchone()
    if not conn.autocommit:
        conn.commit()
    return int(row[0]) if row else 0
