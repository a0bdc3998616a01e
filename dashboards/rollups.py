"""The roll-ups the heavy panels read (rollup_hourly, rollup_daily, rollup_town_hourly and the
per-asset views), brought up to date by `bauhof_refresh_rollups()`
(bauhof/db/functions/40_rollups.sql). rollup_daily is also the one daily aggregate the API's
day buckets of readings add up.

Call `refresh` after ingest commits (it only recomputes the hours that received readings since
the last call, so calling it often is cheap), or run `bauhof dashboards rollups --every 60`.
"""

from __future__ import annotations

from typing import Any

import psycopg


def refresh(conn: psycopg.Connection[Any]) -> int:
    """Recompute the hours (and their days) touched since the last refresh; how many hours."""
    row = conn.execute("SELECT bauhof_refresh_rollups()").fetchone()
    if not conn.autocommit:
        conn.commit()
    return int(row[0]) if row else 0
