"""The Fleet dashboard: vehicle tracks, kilometres per vehicle and the collection routes'
stops."""

from __future__ import annotations

from dashboards.model import Dashboard, Panel, Query, markers

TRACKS = Query("""
SELECT r.time, r.asset_id AS vehicle, r.latitude, r.longitude
FROM readings r
WHERE r.asset_type = 'vehicle' AND $__timeFilter(r.time) AND r.latitude IS NOT NULL
  AND (r.latitude <> 0 OR r.longitude <> 0)
ORDER BY r.time DESC LIMIT 5000
""", (("time", "time"), ("vehicle", "text"), ("latitude", "number"), ("longitude", "number")))

KM = Query("""
SELECT $__timeGroupAlias(bucket, 1d), asset_id AS metric, sum(track_m) / 1000 AS km
FROM rollup_daily
WHERE asset_type = 'vehicle' AND $__timeFilter(bucket)
GROUP BY 1, 2 ORDER BY 1
""", (("time", "time"), ("metric", "text"), ("km", "number")), format="time_series")

ROUTES = Query("""
SELECT p.plan_date::text AS plan_date, r.vehicle_id AS vehicle, r.route_no, r.stops,
       count(s.done_at)::int AS stops_done,
       round((r.distance_m / 1000)::numeric, 2)::float8 AS km,
       o.id AS order_id, coalesce(o.status, 'none') AS order_status
FROM route_plans p
JOIN route_plan_routes r ON r.plan_id = p.id
JOIN route_plan_stops s ON s.plan_id = r.plan_id AND s.route_no = r.route_no
LEFT JOIN work_orders o ON o.id = r.order_id
WHERE p.kind = 'plan' AND p.status = 'active'
  AND p.plan_date BETWEEN ($__timeFrom())::timestamptz::date AND ($__timeTo())::timestamptz::date
GROUP BY p.plan_date, r.vehicle_id, r.route_no, r.stops, r.distance_m, o.id, o.status
ORDER BY p.plan_date DESC, r.route_no
""", (("plan_date", "text"), ("vehicle", "text"), ("route_no", "number"), ("stops", "number"),
      ("stops_done", "number"), ("km", "number"), ("order_id", "number"),
      ("order_status", "text")))


def dashboard() -> Dashboard:
    """The Fleet dashboard."""
    return Dashboard(
        uid="bauhof-fleet", title="Fleet",
        description="Where the vehicles drove, how far, and the stops of the collection routes.",
        time_from="now-24h",
        panels=(
            Panel("Vehicle tracks (latest 5,000 positions)", "geomap", TRACKS, 0, 0, 14, 14,
                  options=markers("latitude", "longitude", "vehicle", "Positions")),
            Panel("Kilometres per vehicle and day", "timeseries", KM, 14, 0, 10, 14,
                  unit="lengthkm"),
            Panel("Collection routes and their stops", "table", ROUTES, 0, 14, 24, 9),
        ))
