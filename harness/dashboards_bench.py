"""`bauhof bench dashboards`: every panel's query over a year of the default town.

A private database gets the default town's assets and a synthetic year: the roll-ups every
device would have (hourly, daily, town-wide), tracker positions every two minutes of every
shift, a year of work orders, and two weeks of bin readings from which the planner makes its
forecasts, previews and a plan. Each panel's SQL, expanded as Grafana does for the last 365
days, is then run three times; the median is reported per panel.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

END = datetime(2026, 6, 1, tzinfo=UTC)
START = END - timedelta(days=365)
VARIABLES = {"threshold": "80", "horizon": "24", "api": "http://localhost:8000"}

_ROLLUP_HOURLY = """
INSERT INTO rollup_hourly (bucket, dev_eui, asset_type, asset_id, uplinks, battery_v,
    battery_pct, temperature_c, soil_moisture_avg, soil_moisture_min, fill_avg, fill_min,
    fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg, overflow_hours)
SELECT h, d.dev_eui, d.asset_type, d.asset_id, 3, 3.5, 80, 12,
       CASE WHEN d.asset_type = 'green_area' THEN 20 + 10 * random() END,
       CASE WHEN d.asset_type = 'green_area' THEN 18 + 10 * random() END,
       CASE WHEN d.asset_type = 'bin' THEN f END, CASE WHEN d.asset_type = 'bin' THEN f - 3 END,
       CASE WHEN d.asset_type = 'bin' THEN f + 3 END, CASE WHEN d.asset_type = 'bin' THEN f END,
       CASE WHEN d.asset_type = 'bin' AND f < 5 THEN 1 ELSE 0 END,
       CASE WHEN d.asset_type = 'vehicle' THEN 3000 * random() ELSE 0 END,
       -90 - 20 * random(), 5 * random(),
       CASE WHEN d.asset_type = 'bin' AND f > 97 THEN 1 ELSE 0 END
FROM devices d
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 hour',
                           interval '1 hour') h
CROSS JOIN LATERAL (SELECT mod((extract(epoch FROM h) / 3600)::int
                               + mod(abs(hashtext(d.dev_eui)), 100), 100) + 0.0 AS f) x
"""
_ROLLUP_DAILY = """
INSERT INTO rollup_daily (bucket, dev_eui, asset_type, asset_id, uplinks, battery_v_n,
    battery_v_sum, battery_v_min, battery_v_max, soil_moisture_pct_n, soil_moisture_pct_sum,
    soil_moisture_pct_min, soil_moisture_pct_max, fill_avg, fill_min, fill_max, fill_last,
    emptyings, track_m, rssi_avg, snr_avg, overflow_hours)
SELECT time_bucket('1 day', bucket), dev_eui, max(asset_type), max(asset_id), sum(uplinks),
       count(battery_v), sum(battery_v), min(battery_v), max(battery_v),
       count(soil_moisture_avg), sum(soil_moisture_avg), min(soil_moisture_min),
       max(soil_moisture_avg), avg(fill_avg), min(fill_min), max(fill_max), max(fill_last),
       sum(emptyings), sum(track_m), avg(rssi_avg), avg(snr_avg), sum(overflow_hours)
FROM rollup_hourly GROUP BY 1, 2
"""
_ROLLUP_TOWN = """
INSERT INTO rollup_town_hourly (bucket, asset_type, devices, uplinks, emptyings,
    overflow_hours, track_m, soil_moisture_avg, rssi_avg, snr_avg)
SELECT bucket, coalesce(asset_type, ''), count(*), sum(uplinks), sum(emptyings),
       sum(overflow_hours), sum(track_m), avg(soil_moisture_avg), avg(rssi_avg), avg(snr_avg)
FROM rollup_hourly GROUP BY 1, 2
"""
_TRACKS = """
INSERT INTO readings (time, dev_eui, deduplication_id, asset_type, asset_id, latitude, longitude)
SELECT t, d.dev_eui, gen_random_uuid(), 'vehicle', d.asset_id,
       48.5955 + 0.01 * sin(extract(epoch FROM t) / 600),
       8.8707 + 0.01 * cos(extract(epoch FROM t) / 600)
FROM devices d
CROSS JOIN generate_series(%(start)s::timestamptz, %(end)s::timestamptz, interval '2 minutes') t
WHERE d.asset_type = 'vehicle' AND extract(isodow FROM t) < 6
  AND extract(hour FROM t) BETWEEN 5 AND 13
"""
_ORDERS = """
INSERT INTO work_orders (kind, subject_type, subject_id, rule, params, status, title,
    opened_at, resolved_at, resolved_by, assignee)
SELECT k, 'green_area', 'ga-' || lpad((mod(i, 40) + 1)::text, 3, '0'), 'bench.' || i,
       jsonb_build_object('sponsor_id', 'sp-' || lpad((mod(i, 32) + 1)::text, 3, '0')),
       CASE WHEN mod(i, 20) = 0 THEN 'open' ELSE 'done' END, 'bench order',
       o, CASE WHEN mod(i, 20) = 0 THEN NULL ELSE o + interval '5 hours' END,
       CASE WHEN mod(i, 20) = 0 THEN NULL
            ELSE 'sponsor:sp-' || lpad((mod(i, 32) + 1)::text, 3, '0') END,
       'sponsor:sp-' || lpad((mod(i, 32) + 1)::text, 3, '0')
FROM generate_series(1, 6000) i
CROSS JOIN LATERAL (SELECT %(start)s::timestamptz + (i * interval '87 minutes') AS o,
                           (ARRAY['watering', 'empty_bin', 'sensor_maintenance'])[mod(i, 3) + 1]
                           AS k) x
"""


def _fill(conn: Any, database_url: str) -> None:
    from bauhof import assets
    from harness import town
    from planning import previews
    from planning import settings as planning_settings
    from simulator import scenario
    from simulator.clock import DAY_US, to_us
    from simulator.engine import Simulator
    from simulator.scenario import scenario_file

    assets.load_file(database_url, scenario_file("herrenberg"))
    span = {"start": START, "end": END}
    for sql in (_ROLLUP_HOURLY, _ROLLUP_DAILY, _ROLLUP_TOWN, _TRACKS):
        conn.execute(sql, span)
    conn.execute(_ORDERS, span)
    # Two weeks of real bin readings for the forecasts: only the bins' messages.
    plan_town = scenario.load("herrenberg")
    plan_town = plan_town.model_copy(update={"devices": [
        d for d in plan_town.devices if (d.asset or "").startswith("bin/")]})
    start_us = to_us(END - timedelta(days=14))
    engine = Simulator(plan_town, seed=1, start_us=start_us, end_us=start_us + 14 * DAY_US)
    town.feed(conn, engine.messages())
    conn.execute("UPDATE devices SET last_seen = %s - interval '10 minutes' "
                 "WHERE last_seen IS NULL AND dev_eui <> (SELECT min(dev_eui) FROM devices)",
                 (END,))
    depot = plan_town.town.depot
    planning_settings.save(conn, planning_settings.parse({
        "depot": {"latitude": depot.latitude, "longitude": depot.longitude},
        "time_limit_s": 2.0, "preview_time_limit_s": 0.5}), "planner:bench")
    previews.preview(conn, 80.0, 24.0)
    previews.create(conn, END.date() + timedelta(days=1), by="planner:bench")
    conn.execute("ANALYZE")


def run(progress: bool = True) -> dict[str, Any]:
    """Fill a private database and time every panel; the figures."""
    from bauhof.services import PrivateStack
    from dashboards import build, macros

    with PrivateStack(fsync=False) as stack:
        from bauhof import db

        with db.connect(stack.database_url, autocommit=True) as conn:
            started = time.perf_counter()
            if progress:
                print("filling a year of the default town ...", file=sys.stderr, flush=True)
            _fill(conn, stack.database_url)
            fill_s = time.perf_counter() - started
            rows = conn.execute("SELECT (SELECT count(*) FROM rollup_hourly), "
                                "(SELECT count(*) FROM readings)").fetchone()
            panels: dict[str, float] = {}
            for dashboard in build.dashboards():
                for panel in dashboard.panels:
                    sql = macros.expand(panel.query.sql, START, END, VARIABLES,
                                        interval="6h")
                    times = []
                    for _ in range(3):
                        t0 = time.perf_counter()
                        conn.execute(sql).fetchall()
                        times.append(time.perf_counter() - t0)
                    panels[f"{dashboard.title}: {panel.title}"] = round(
                        statistics.median(times) * 1000, 1)
    return {"fill_s": round(fill_s, 1), "rollup_hourly_rows": rows[0] if rows else 0,
            "readings_rows": rows[1] if rows else 0, "panels_ms": panels,
            "max_ms": max(panels.values()), "slowest": max(panels, key=lambda k: panels[k])}
