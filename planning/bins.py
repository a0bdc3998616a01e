"""The bins as the planner sees them: place, volume, threshold, fill readings and forecasts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from planning import forecast as fc
from rules.assets import BIN_COLUMNS, Bin

LOOKBACK = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The day planned, when its shift starts, and when the next shift does."""

    plan_date: date
    starts_at: datetime
    next_at: datetime


def load(conn: psycopg.Connection[Any]) -> dict[str, Bin]:
    """Every bin, by id."""
    rows = conn.execute(f"SELECT {BIN_COLUMNS} FROM bins ORDER BY id").fetchall()  # noqa: S608
    return {str(r[0]): Bin(*r) for r in rows}


def latest_reading(conn: psycopg.Connection[Any]) -> datetime | None:
    """The time of the newest bin reading (the planner's event-time clock)."""
    # ORDER BY … LIMIT 1 lets TimescaleDB read the newest chunk first.
    row = conn.execute(
        "SELECT time FROM readings WHERE asset_type = 'bin' AND distance_mm IS NOT NULL "
        "ORDER BY time DESC LIMIT 1").fetchone()
    return None if row is None else row[0]


def points(conn: psycopg.Connection[Any], as_of: datetime,
           lookback: timedelta = LOOKBACK) -> dict[str, list[fc.Point]]:
    """Fill readings per bin from as_of - lookback to as_of, oldest first."""
    rows = conn.execute(
        "SELECT bin_id, array_agg(extract(epoch FROM time)::float8 ORDER BY time), "
        "array_agg(fill_pct ORDER BY time) FROM bin_fill "
        "WHERE time > %s AND time <= %s GROUP BY bin_id",
        (as_of - lookback, as_of)).fetchall()
    return {str(bin_id): list(zip(times, fills, strict=True)) for bin_id, times, fills in rows}


def forecasts(conn: psycopg.Connection[Any], as_of: datetime, threshold_pct: float,
              bins: dict[str, Bin] | None = None) -> dict[str, fc.Forecast]:
    """Forecast every bin at as_of (its own threshold, else the planner's)."""
    bins = bins if bins is not None else load(conn)
    series = points(conn, as_of)
    return {b.id: fc.forecast(b.id, series.get(b.id, []), as_of,
                              b.fill_threshold_pct or threshold_pct)
            for b in bins.values()}


def store(conn: psycopg.Connection[Any], forecasts: dict[str, fc.Forecast],
          day: Schedule) -> int:
    """Replace the stored forecasts (bin_forecasts) with these; the number stored."""
    rows = [(f.bin_id, f.as_of, f.last_reading_at, f.fill_pct, f.rate_pct_h, f.threshold_pct,
             f.threshold_at, f.full_at, f.readings, f.method, list(f.curve), day.plan_date,
             day.starts_at, day.next_at)
            for f in forecasts.values()]
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("DELETE FROM bin_forecasts")
        cur.executemany(
            "INSERT INTO bin_forecasts (bin_id, as_of, last_reading_at, fill_pct, rate_pct_h, "
            "threshold_pct, threshold_at, full_at, readings, method, curve, plan_date, "
            "collection_at, next_collection_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    return len(rows)


def stored(conn: psycopg.Connection[Any]) -> dict[str, fc.Forecast]:
    """The forecasts last stored, by bin id."""
    rows = conn.execute(
        "SELECT bin_id, as_of, last_reading_at, fill_pct, rate_pct_h, threshold_pct, "
        "threshold_at, full_at, readings, method, curve FROM bin_forecasts").fetchall()
    return {str(r[0]): fc.Forecast(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                                   str(r[9]), tuple(float(v) for v in r[10])) for r in rows}
