"""The Green areas dashboard: moisture per area against its thresholds, watering requests and
orders, and how sponsors respond."""

from __future__ import annotations

from dashboards.model import Dashboard, Panel, Query

# Up to a month from the hourly roll-up, beyond from the daily one (PostgreSQL drops the
# other branch when planning, as its condition is constant).
MOISTURE = Query("""
SELECT $__timeGroupAlias(h.bucket, $__interval), a.name AS metric,
       avg(h.soil_moisture_avg) AS moisture_pct
FROM (
    SELECT bucket, asset_id, soil_moisture_avg FROM rollup_hourly
    WHERE asset_type = 'green_area' AND $__timeFilter(bucket)
      AND ($__timeTo())::timestamptz - ($__timeFrom())::timestamptz <= interval '31 days'
    UNION ALL
    SELECT bucket, asset_id, soil_moisture_pct_sum / nullif(soil_moisture_pct_n, 0)
    FROM rollup_daily
    WHERE asset_type = 'green_area' AND $__timeFilter(bucket)
      AND ($__timeTo())::timestamptz - ($__timeFrom())::timestamptz > interval '31 days'
) h JOIN green_areas a ON a.id = h.asset_id
GROUP BY 1, 2 ORDER BY 1
""", (("time", "time"), ("metric", "text"), ("moisture_pct", "number")),
    format="time_series")

AREAS = Query("""
SELECT a.id AS area, a.name, a.plant_type, s.name AS sponsor,
       a.moisture_low_pct AS low_pct, a.moisture_clear_pct AS clear_pct,
       round(l.moisture::numeric, 1)::float8 AS moisture_pct, l.bucket AS hour,
       CASE WHEN l.moisture IS NULL THEN 'no data'
            WHEN l.moisture < a.moisture_low_pct THEN 'dry'
            WHEN l.moisture >= a.moisture_clear_pct THEN 'wet enough'
            ELSE 'ok' END AS state
FROM green_areas a
LEFT JOIN sponsors s ON s.id = a.sponsor_id
LEFT JOIN LATERAL (
    SELECT bucket, soil_moisture_avg AS moisture FROM rollup_hourly
    WHERE asset_type = 'green_area' AND asset_id = a.id AND soil_moisture_avg IS NOT NULL
    ORDER BY bucket DESC LIMIT 1) l ON true
ORDER BY moisture_pct NULLS LAST, a.id
""", (("area", "text"), ("name", "text"), ("plant_type", "text"), ("sponsor", "text"),
      ("low_pct", "number"), ("clear_pct", "number"), ("moisture_pct", "number"),
      ("hour", "time"), ("state", "text")))

WATERING = Query("""
SELECT $__timeGroupAlias(opened_at, 1d), count(*)::float8 AS requests,
       (count(*) FILTER (WHERE params ? 'sponsor_id'))::float8 AS asked_sponsor,
       (count(*) FILTER (WHERE status IN ('done', 'resolved')))::float8 AS closed
FROM work_orders
WHERE kind = 'watering' AND $__timeFilter(opened_at)
GROUP BY 1 ORDER BY 1
""", (("time", "time"), ("requests", "number"), ("asked_sponsor", "number"),
      ("closed", "number")), format="time_series")

SPONSORS = Query("""
SELECT s.name AS sponsor, count(*)::int AS requests,
       (count(*) FILTER (WHERE o.resolved_by = 'sponsor:' || s.id))::int AS watered_by_sponsor,
       (count(*) FILTER (WHERE o.assignee IS DISTINCT FROM 'sponsor:' || s.id))::int
           AS handed_to_bauhof,
       round((avg(extract(epoch FROM o.resolved_at - o.opened_at) / 3600)
              FILTER (WHERE o.resolved_by = 'sponsor:' || s.id))::numeric, 1)::float8
           AS hours_to_water
FROM work_orders o JOIN sponsors s ON s.id = o.params ->> 'sponsor_id'
WHERE o.kind = 'watering' AND $__timeFilter(o.opened_at)
GROUP BY s.id, s.name ORDER BY requests DESC, sponsor
""", (("sponsor", "text"), ("requests", "number"), ("watered_by_sponsor", "number"),
      ("handed_to_bauhof", "number"), ("hours_to_water", "number")))

BALANCE = Query("""
SELECT a.name, a.plant_type,
       round(l.moisture::numeric, 1)::float8 AS moisture_pct,
       w.deficit_mm, w.capacity_mm, w.needs_water, w.rain_7d_mm, w.et_7d_mm,
       w.watered_7d_mm, w.litres, w.as_of
FROM green_areas a
JOIN water_balance w ON w.area_id = a.id
LEFT JOIN LATERAL (
    SELECT soil_moisture_avg AS moisture FROM rollup_hourly
    WHERE asset_type = 'green_area' AND asset_id = a.id AND soil_moisture_avg IS NOT NULL
    ORDER BY bucket DESC LIMIT 1) l ON true
ORDER BY w.deficit_mm / w.capacity_mm DESC, a.id
""", (("name", "text"), ("plant_type", "text"), ("moisture_pct", "number"),
      ("deficit_mm", "number"), ("capacity_mm", "number"), ("needs_water", "bool"),
      ("rain_7d_mm", "number"), ("et_7d_mm", "number"), ("watered_7d_mm", "number"),
      ("litres", "number"), ("as_of", "time")))

WEATHER = Query("""
SELECT coalesce(f.source, 'mqtt') AS source, coalesce(f.station, o.station) AS station,
       o.newest + interval '1 hour' AS newest_observed,
       round((extract(epoch FROM now() - o.newest - interval '1 hour') / 3600)::numeric, 1)
           ::float8 AS age_h,
       f.last_error, coalesce(f.attribution, 'own station (MQTT bauhof/weather/…)')
           AS attribution
FROM (SELECT source, max(time) AS newest, min(station) AS station FROM weather
      WHERE kind = 'observed' GROUP BY source) o
FULL JOIN weather_feeds f ON f.source = o.source
ORDER BY 1
""", (("source", "text"), ("station", "text"), ("newest_observed", "time"),
      ("age_h", "number"), ("last_error", "text"), ("attribution", "text")))

ATTRIBUTION = ("Weather: Datenbasis: Deutscher Wetterdienst (via Bright Sky), or weather data "
               "by Open-Meteo.com, CC BY 4.0 (https://open-meteo.com/), whichever feed "
               "`bauhof weather run` fetches (see the Weather feeds panel).")


def dashboard() -> Dashboard:
    """The Green areas dashboard."""
    return Dashboard(
        uid="bauhof-green-areas", title="Green areas",
        description="Soil moisture per area against its thresholds, watering requests and "
                    "orders, and the sponsors' response.",
        panels=(
            Panel("Soil moisture per area", "timeseries", MOISTURE, 0, 0, 24, 9,
                  unit="percent"),
            Panel("Areas against their thresholds", "table", AREAS, 0, 9, 14, 10,
                  unit="percent"),
            Panel("Sponsor response", "table", SPONSORS, 14, 9, 10, 10),
            Panel("Watering requests and orders per day", "timeseries", WATERING, 0, 19, 24,
                  8),
            Panel("Water balance beside the measured moisture", "table", BALANCE, 0, 27, 16,
                  10, description="Per area, from the weather: root-zone water short of full "
                  "(deficit) against what it holds (capacity), seven days of rain, "
                  "evapotranspiration and recorded waterings, and the litres a watering "
                  "would take. " + ATTRIBUTION),
            Panel("Weather feeds", "table", WEATHER, 16, 27, 8, 10,
                  description="Where the weather comes from and how old its newest observed "
                  "hour is; the watering rule holds back for rain only on weather at most "
                  "3 hours old. " + ATTRIBUTION),
        ))
