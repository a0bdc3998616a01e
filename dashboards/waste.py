"""The Waste planning dashboard: bins by fill and forecast, the next day's bins for the chosen
`$threshold` and `$horizon`, the route preview on a map and as a table, collections against
overflows.

The preview is read with SQL from the previews Bauhof stores (`bauhof routes refresh` stores
one for every choice of the two variables; `GET /api/v1/routes/preview` stores the one asked
for), not through the API with the Infinity plugin: one data source with a read-only role,
no plugin to install, no API token kept in Grafana, and every query testable in SQL.
"""

from __future__ import annotations

from dashboards.model import Dashboard, Link, Panel, Query, Variable, markers
from planning.previews import HORIZONS, THRESHOLDS

# The API's planner page (api/planner.py), prefilled with the dashboard's variables; Grafana
# replaces the ${…} in a dashboard link's URL with the variables' current values.
SAVE_PAGE = "${api}/planner/?threshold=${threshold}&horizon=${horizon}"
# The planner page for the last day of the dashboard's time range (Grafana's own date format).
PLANNER_DAY = ("${api}/planner/?date=${__to:date:YYYY-MM-DD}&threshold=${threshold}"
               "&horizon=${horizon}")
# Where Grafana serves this dashboard (the planner page links here), and the id of the panel
# with one bin's fill (the planner page opens it with var-bin=<id>&viewPanel=BIN_PANEL).
PATH = "/d/bauhof-waste/waste-planning"
BIN_PANEL = 7
FILL = ((None, "green"), (60.0, "yellow"), (80.0, "orange"), (100.0, "red"))
# The hours from a forecast's as_of to the next shift, the shift after it, and $horizon on.
_HOURS = "extract(epoch FROM f.{} - f.as_of) / 3600"
_LATEST_PREVIEW = (
    "SELECT id FROM route_plans WHERE kind = 'preview' AND threshold_pct = $threshold "
    "AND horizon_h = $horizon ORDER BY created_at DESC LIMIT 1")

BIN_MAP = Query(f"""
SELECT b.id AS bin, coalesce(b.name, b.id) AS name, b.latitude, b.longitude,
       round(f.fill_pct::numeric, 1)::float8 AS fill_pct,
       round(bauhof_curve_at(f.curve, {_HOURS.format("collection_at")} + $horizon)::numeric,
             1)::float8 AS forecast_pct,
       f.threshold_at, f.full_at
FROM bins b JOIN bin_forecasts f ON f.bin_id = b.id
ORDER BY b.id
""", (("bin", "text"), ("name", "text"), ("latitude", "number"), ("longitude", "number"),  # noqa: S608 (constant fragments)
      ("fill_pct", "number"), ("forecast_pct", "number"), ("threshold_at", "time"),
      ("full_at", "time")))

# The rule of planning/selection.py, in SQL on the stored curves.
NEXT_BINS = Query(f"""
WITH never AS (
    SELECT jsonb_array_elements_text(settings -> 'never') AS bin_id FROM (
        SELECT settings FROM planner_settings ORDER BY version DESC LIMIT 1) s
), f AS (
    SELECT b.id, coalesce(b.name, b.id) AS name, f.plan_date, f.fill_pct,
           bauhof_curve_at(f.curve, {_HOURS.format("collection_at")}) AS at_start,
           bauhof_curve_at(f.curve, {_HOURS.format("next_collection_at")}) AS at_next,
           bauhof_curve_at(f.curve, {_HOURS.format("collection_at")} + $horizon) AS at_horizon
    FROM bin_forecasts f JOIN bins b ON b.id = f.bin_id
    WHERE b.id NOT IN (SELECT bin_id FROM never)
)
SELECT id AS bin, name, plan_date::text AS plan_date,
       CASE WHEN at_start >= $threshold THEN 'threshold'
            WHEN at_next >= 100 THEN 'overflow' ELSE 'forecast' END AS reason,
       round(fill_pct::numeric, 1)::float8 AS fill_now_pct,
       round(at_start::numeric, 1)::float8 AS at_collection_pct,
       round(at_horizon::numeric, 1)::float8 AS in_horizon_pct
FROM f
WHERE at_start >= $threshold OR at_next >= 100 OR at_horizon >= $threshold
ORDER BY at_start DESC, id
""", (("bin", "text"), ("name", "text"), ("plan_date", "text"), ("reason", "text"),  # noqa: S608 (constant fragments)
      ("fill_now_pct", "number"), ("at_collection_pct", "number"),
      ("in_horizon_pct", "number")))

PREVIEW_MAP = Query(f"""
WITH p AS ({_LATEST_PREVIEW})
SELECT s.route_no, s.seq, r.vehicle_id AS vehicle, s.bin_id AS bin, s.latitude, s.longitude,
       s.eta, s.expected_fill_pct
FROM p JOIN route_plan_stops s ON s.plan_id = p.id
JOIN route_plan_routes r ON r.plan_id = s.plan_id AND r.route_no = s.route_no
ORDER BY s.route_no, s.seq
""", (("route_no", "number"), ("seq", "number"), ("vehicle", "text"), ("bin", "text"),  # noqa: S608 (constant fragments)
      ("latitude", "number"), ("longitude", "number"), ("eta", "time"),
      ("expected_fill_pct", "number")))

PREVIEW_ROUTES = Query(f"""
WITH p AS ({_LATEST_PREVIEW})
SELECT r.route_no, r.vehicle_id AS vehicle, r.stops,
       round((r.distance_m / 1000)::numeric, 2)::float8 AS km,
       round((r.duration_s / 3600)::numeric, 2)::float8 AS hours,
       round(r.load_l::numeric)::float8 AS load_l, r.capacity_l
FROM p JOIN route_plan_routes r ON r.plan_id = p.id
ORDER BY r.route_no
""", (("route_no", "number"), ("vehicle", "text"), ("stops", "number"), ("km", "number"),  # noqa: S608 (constant fragments)
      ("hours", "number"), ("load_l", "number"), ("capacity_l", "number")))

TOTALS = Query(f"""
WITH p AS (SELECT * FROM route_plans WHERE id = ({_LATEST_PREVIEW})),
plan AS (SELECT * FROM route_plans WHERE kind = 'plan' AND status = 'active'
         ORDER BY plan_date DESC LIMIT 1)
SELECT (SELECT round((distance_m / 1000)::numeric, 1)::float8 FROM p) AS preview_km,
       (SELECT bins_planned FROM p) AS preview_stops,
       (SELECT count(*) FROM route_plan_routes r JOIN p ON r.plan_id = p.id) AS preview_routes,
       (SELECT round((distance_m / 1000)::numeric, 1)::float8 FROM plan) AS plan_km,
       (SELECT bins_planned FROM plan) AS plan_stops
""", (("preview_km", "number"), ("preview_stops", "number"), ("preview_routes", "number"),  # noqa: S608 (constant fragments)
      ("plan_km", "number"), ("plan_stops", "number")))

COLLECTIONS = Query("""
SELECT $__timeGroupAlias(bucket, 1d), sum(emptyings)::float8 AS collections,
       sum(overflow_hours)::float8 AS overflow_hours
FROM rollup_town_hourly
WHERE asset_type = 'bin' AND $__timeFilter(bucket)
GROUP BY 1 ORDER BY 1
""", (("time", "time"), ("collections", "number"), ("overflow_hours", "number")),
    format="time_series")

BIN_FILL = Query("""
SELECT $__timeGroupAlias(time, 1h), max(fill_pct)::float8 AS fill_pct
FROM bin_fill
WHERE bin_id = '${bin}' AND $__timeFilter(time)
GROUP BY 1 ORDER BY 1
""", (("time", "time"), ("fill_pct", "number")), format="time_series")


def dashboard() -> Dashboard:
    """The Waste planning dashboard."""
    return Dashboard(
        uid="bauhof-waste", title="Waste planning",
        description="Bins by fill and forecast, the next day's bins and route preview for the "
                    "chosen threshold and horizon, collections against overflows.",
        variables=(
            Variable("threshold", "Fill threshold %", tuple(f"{t:g}" for t in THRESHOLDS),
                     "80"),
            Variable("horizon", "Forecast horizon h", tuple(f"{h:g}" for h in HORIZONS), "24"),
            Variable("api", "Bauhof API", ("http://localhost:8000",), "http://localhost:8000",
                     hide=True),
            Variable("bin", "Bin", ("bin-0001",), "bin-0001", kind="textbox")),
        links=(
            Link("Plan this day in the planner", PLANNER_DAY,
                 "Opens Bauhof's planner page (/planner) for the last day shown, with "
                 "$threshold and $horizon: preview on a map, adjust, plan"),
            Link("Save these as planner settings", SAVE_PAGE,
                 "Opens Bauhof's planner page with $threshold and $horizon: the settings in "
                 "force beside these, and a button that saves them as a new version "
                 "(PUT /api/v1/routes/settings, planner token)"),
            Link("Preview these settings live",
                 "${api}/api/v1/routes/preview?threshold=${threshold}&horizon=${horizon}",
                 "GET /api/v1/routes/preview (planner token); stores the preview this "
                 "dashboard shows"),
            Link("Plan the day", "${api}/docs#/routes/create_plan",
                 "POST /api/v1/routes/plans: plan and open the collection-route orders")),
        panels=(
            Panel("Bins: fill now (colour) and forecast", "geomap", BIN_MAP, 0, 0, 12, 12,
                  description="Colour is the fill now; the tooltip shows the fill expected "
                              "$horizon h after the next shift starts.",
                  unit="percent", thresholds=FILL,
                  options=markers("latitude", "longitude", "fill_pct", "Bins")),
            Panel("Route preview ($threshold %, $horizon h)", "geomap", PREVIEW_MAP, 12, 0, 12,
                  12, description="Stops of the stored preview, labelled by their order.",
                  options=markers("latitude", "longitude", "route_no", "Stops", "seq")),
            Panel("Preview and current plan", "stat", TOTALS, 0, 12, 24, 4,
                  options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                             "values": False},
                           "orientation": "horizontal", "textMode": "value_and_name",
                           "colorMode": "none"}),
            Panel("Bins for the next plan day", "table", NEXT_BINS, 0, 16, 12, 10,
                  unit="percent", thresholds=FILL),
            Panel("Routes of the preview", "table", PREVIEW_ROUTES, 12, 16, 12, 10),
            Panel("Collections and overflow hours per day", "timeseries", COLLECTIONS, 0, 26,
                  24, 8, description="Emptyings seen by the sensors (a fill drop of 40 points "
                                     "or more) and hours with a bin at or over 100 %."),
            Panel("Fill of bin $bin", "timeseries", BIN_FILL, 0, 34, 24, 8,
                  description="The hourly highest fill of one bin (the planner page opens "
                              "this panel for the bin clicked).", unit="percent",
                  thresholds=FILL),
        ))
