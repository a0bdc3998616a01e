"""Previews for the dashboards, and the periodic refresh that keeps them current.

A preview is a plan computed with a threshold and horizon other than the settings' and
stored without orders; the Waste planning dashboard reads the latest preview for its
`$threshold` and `$horizon` variables with SQL. `refresh` recomputes the bin forecasts,
previews every combination the dashboard offers, and marks emptied stops of active plans.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from planning import bins as bins_mod
from planning import planner, plans, selection
from planning import settings as settings_mod
from planning.forecast import Forecast

# The dashboard's variable choices (dashboards/build.py offers the same).
THRESHOLDS = (60.0, 70.0, 75.0, 80.0, 85.0, 90.0)
HORIZONS = (0.0, 12.0, 24.0, 48.0)
# Stored forecasts younger than this (against the newest reading) are used as they are.
FRESH = timedelta(minutes=30)
ACTOR = "planner"


@dataclass(frozen=True, slots=True)
class Refreshed:
    """What one refresh did."""

    as_of: datetime | None
    plan_date: date | None
    forecasts: int
    previews: int
    stops_done: int


def forecasts(conn: psycopg.Connection[Any], cfg: settings_mod.PlannerSettings,
              as_of: datetime | None = None, *, force: bool = False) -> (
    tuple[datetime | None, dict[str, Forecast]]
):
    """Stored forecasts when fresh, else new ones (stored); with the as_of they are for."""
    newest = bins_mod.latest_reading(conn)
    as_of = as_of or newest
    if as_of is None:
        return None, {}
    if not force:
        stored = bins_mod.stored(conn)
        if stored and all(f.as_of >= as_of - FRESH for f in stored.values()):
            return max(f.as_of for f in stored.values()), stored
    made = bins_mod.forecasts(conn, as_of, cfg.threshold_for(None))
    day = selection.schedule(selection.next_plan_date(as_of, cfg), cfg)
    bins_mod.store(conn, made, day)
    return as_of, made


def preview(conn: psycopg.Connection[Any], threshold_pct: float | None,
            horizon_h: float | None, day: date | None = None, *, by: str = ACTOR,
            time_limit_s: float | None = None) -> planner.Plan:
    """Plan a day with another threshold/horizon and store it as a preview."""
    version, cfg = settings_mod.current(conn)
    update: dict[str, Any] = {}
    if threshold_pct is not None:
        update["fill_threshold_pct"] = threshold_pct
    if horizon_h is not None:
        update["horizon_h"] = horizon_h
    if time_limit_s is not None:
        update["preview_time_limit_s"] = time_limit_s
    cfg = settings_mod.parse({**cfg.model_dump(mode="json"), **update})
    as_of, made = forecasts(conn, cfg)
    clock = as_of or datetime.now().astimezone()
    day = day or selection.next_plan_date(clock, cfg)
    plan = planner.compute(conn, day, cfg, kind="preview", version=version, as_of=as_of,
                           forecasts=made)
    return plans.store(conn, plan, by)


def refresh(conn: psycopg.Connection[Any], *, grid: bool = True,
            time_limit_s: float = 0.3) -> Refreshed:
    """Recompute forecasts and the dashboard's previews; mark emptied stops done."""
    _, cfg = settings_mod.current(conn)
    as_of, made = forecasts(conn, cfg, force=True)
    if as_of is None:
        return Refreshed(None, None, 0, 0, 0)
    day = selection.next_plan_date(as_of, cfg)
    count = 0
    if grid:
        for threshold, horizon in itertools.product(THRESHOLDS, HORIZONS):
            preview(conn, threshold, horizon, day, time_limit_s=time_limit_s)
            count += 1
    conn.execute("DELETE FROM route_plans WHERE kind = 'preview' AND plan_date < %s", (day,))
    done = plans.mark_done(conn, as_of)
    return Refreshed(as_of, day, len(made), count, done)


def create(conn: psycopg.Connection[Any], day: date, *, by: str,
           overrides: dict[str, Any] | None = None, as_of: datetime | None = None) -> (
    planner.Plan
):
    """Plan a day with the settings in force (plus overrides) and store it with its orders."""
    version, cfg = settings_mod.current(conn)
    if overrides:
        cfg = settings_mod.parse({**cfg.model_dump(mode="json"), **overrides})
    as_of, made = forecasts(conn, cfg, as_of, force=as_of is not None)
    plan = planner.compute(conn, day, cfg, kind="plan", version=version, as_of=as_of,
                           forecasts=made)
    return plans.store(conn, plan, by)
