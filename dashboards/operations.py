"""The Operations dashboard: open orders by kind and age, time to resolve, ingest rate and
lag, silent devices, battery and signal health."""

from __future__ import annotations

from dashboards.model import Dashboard, Panel, Query

OPEN_ORDERS = Query("""
WITH clock AS (SELECT greatest(now(), max(opened_at)) AS now FROM work_orders)
SELECT o.kind, count(*)::int AS open,
       (count(*) FILTER (WHERE c.now - o.opened_at < interval '1 day'))::int AS under_1d,
       (count(*) FILTER (WHERE c.now - o.opened_at >= interval '1 day'
                           AND c.now - o.opened_at < interval '3 days'))::int AS d1_3,
       (count(*) FILTER (WHERE c.now - o.opened_at >= interval '3 days'
                           AND c.now - o.opened_at < interval '7 days'))::int AS d3_7,
       (count(*) FILTER (WHERE c.now - o.opened_at >= interval '7 days'))::int AS over_7d,
       round(max(extract(epoch FROM c.now - o.opened_at) / 3600)::numeric, 1)::float8
           AS oldest_h
FROM work_orders o CROSS JOIN clock c
WHERE o.status IN ('open', 'assigned', 'in_progress')
GROUP BY o.kind ORDER BY open DESC, o.kind
""", (("kind", "text"), ("open", "number"), ("under_1d", "number"), ("d1_3", "number"),
      ("d3_7", "number"), ("over_7d", "number"), ("oldest_h", "number")))

RESOLVE = Query("""
SELECT $__timeGroupAlias(resolved_at, 1d), kind AS metric,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM resolved_at - opened_at) / 3600) AS median_hours
FROM work_orders
WHERE resolved_at IS NOT NULL AND $__timeFilter(resolved_at)
GROUP BY 1, 2 ORDER BY 1
""", (("time", "time"), ("metric", "text"), ("median_hours", "number")),
    format="time_series")

INGEST_RATE = Query("""
SELECT $__timeGroupAlias(bucket, $__interval), sum(uplinks)::float8 AS uplinks
FROM rollup_town_hourly
WHERE $__timeFilter(bucket)
GROUP BY 1 ORDER BY 1
""", (("time", "time"), ("uplinks", "number")), format="time_series")

INGEST = Query("""
SELECT worker, updated_at, received, stored, duplicates, dead_lettered,
       round(lag_s::numeric, 1)::float8 AS lag_s,
       round((stored / greatest(extract(epoch FROM updated_at - started_at), 1))::numeric,
             1)::float8 AS stored_per_s
FROM ingest_stats
ORDER BY worker
""", (("worker", "text"), ("updated_at", "time"), ("received", "number"), ("stored", "number"),
      ("duplicates", "number"), ("dead_lettered", "number"), ("lag_s", "number"),
      ("stored_per_s", "number")))

SILENT = Query("""
WITH clock AS (SELECT max(last_seen) AS now FROM devices)
SELECT d.dev_eui, coalesce(d.name, d.dev_eui) AS name, d.kind,
       coalesce(d.asset_type || '/' || d.asset_id, '') AS asset, d.last_seen,
       round((extract(epoch FROM c.now - d.last_seen) / 3600)::numeric, 1)::float8 AS silent_h
FROM devices d CROSS JOIN clock c
WHERE d.last_seen IS NULL
   OR d.last_seen < c.now - 3 * make_interval(secs => coalesce(d.expected_interval_s, 3600))
ORDER BY d.last_seen NULLS FIRST, d.dev_eui
""", (("dev_eui", "text"), ("name", "text"), ("kind", "text"), ("asset", "text"),
      ("last_seen", "time"), ("silent_h", "number")))

HEALTH = Query("""
SELECT dev_eui, coalesce(name, dev_eui) AS name, kind, last_battery_pct AS battery_pct,
       last_battery_v AS battery_v, last_rssi::float8 AS rssi, last_snr AS snr, last_seen
FROM devices
WHERE last_seen IS NOT NULL
ORDER BY last_battery_pct NULLS LAST, last_battery_v NULLS LAST, dev_eui
LIMIT 25
""", (("dev_eui", "text"), ("name", "text"), ("kind", "text"), ("battery_pct", "number"),
      ("battery_v", "number"), ("rssi", "number"), ("snr", "number"), ("last_seen", "time")))

SIGNAL = Query("""
SELECT $__timeGroupAlias(bucket, 1d), avg(rssi_avg) AS rssi_dbm, avg(snr_avg) AS snr_db,
       max(devices)::float8 AS devices_heard
FROM rollup_town_hourly
WHERE $__timeFilter(bucket)
GROUP BY 1 ORDER BY 1
""", (("time", "time"), ("rssi_dbm", "number"), ("snr_db", "number"),
      ("devices_heard", "number")), format="time_series")


def dashboard() -> Dashboard:
    """The Operations dashboard."""
    return Dashboard(
        uid="bauhof-operations", title="Operations",
        description="Open orders by kind and age, time to resolve, ingest rate and lag, "
                    "silent devices, battery and signal health.",
        time_from="now-2d", refresh="1m",
        panels=(
            Panel("Open orders by kind and age", "table", OPEN_ORDERS, 0, 0, 12, 8),
            Panel("Median time to resolve (hours)", "timeseries", RESOLVE, 12, 0, 12, 8,
                  unit="h"),
            Panel("Uplinks (per $__interval)", "timeseries", INGEST_RATE, 0, 8, 12, 8),
            Panel("Ingest workers: rate and lag", "table", INGEST, 12, 8, 12, 8,
                  description="Counters each ingest worker writes; lag_s is how far behind "
                              "the newest event it is."),
            Panel("Silent devices", "table", SILENT, 0, 16, 12, 9,
                  description="Not heard for three expected intervals (or never)."),
            Panel("Battery and signal: the weakest devices", "table", HEALTH, 12, 16, 12, 9),
            Panel("Signal per day", "timeseries", SIGNAL, 0, 25, 24, 8),
        ))
