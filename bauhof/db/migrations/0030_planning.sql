-- Waste-collection planning: planner settings (versioned), bin forecasts, route plans and
-- previews with their routes and ordered stops. See planning/ and docs/planning.md.

-- Every saved version of the planner settings; the highest version is in force. Rows are
-- never changed: saving is inserting (planning/settings.py validates the JSON first).
CREATE TABLE planner_settings (
    version     integer PRIMARY KEY CHECK (version > 0),
    settings    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    note        text
);
CREATE TRIGGER planner_settings_append_only
    BEFORE UPDATE OR DELETE ON planner_settings
    FOR EACH ROW EXECUTE FUNCTION bauhof_append_only();

-- The latest forecast per bin (planning/forecast.py), refreshed by `bauhof routes refresh`
-- and by every plan. `curve` is the expected fill in % at as_of + 0 h, 1 h, … 168 h, so the
-- dashboards can select bins for any threshold and horizon in SQL.
CREATE TABLE bin_forecasts (
    bin_id          text PRIMARY KEY REFERENCES bins (id) ON DELETE CASCADE,
    as_of           timestamptz NOT NULL,
    last_reading_at timestamptz,
    fill_pct        double precision NOT NULL,
    rate_pct_h      double precision NOT NULL,
    threshold_pct   double precision NOT NULL,
    threshold_at    timestamptz,
    full_at         timestamptz,
    readings        integer NOT NULL,
    method          text NOT NULL,
    curve           real[] NOT NULL,
    -- The day the next plan is for, when its shift starts and when the one after it does.
    plan_date           date NOT NULL,
    collection_at       timestamptz NOT NULL,
    next_collection_at  timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- bauhof_curve_at(curve, hours), the fill a curve expects `hours` after its as_of:
-- bauhof/db/functions/30_planning.sql.

-- A plan (kind 'plan': the day's routes, one collection_route order per route) or a preview
-- (kind 'preview': the same computation, stored for the dashboard, no orders). Re-planning a
-- day supersedes the active plan of that day.
CREATE TABLE route_plans (
    id                bigserial PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('plan', 'preview')),
    plan_date         date NOT NULL,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded')),
    settings_version  integer REFERENCES planner_settings (version),
    settings          jsonb NOT NULL,
    threshold_pct     double precision,  -- NULL: each bin's own threshold
    horizon_h         double precision NOT NULL,
    as_of             timestamptz NOT NULL,
    starts_at         timestamptz NOT NULL,
    bins_selected     integer NOT NULL,
    bins_planned      integer NOT NULL,
    unplanned         text[] NOT NULL DEFAULT '{}',
    distance_m        double precision NOT NULL,
    duration_s        double precision NOT NULL,
    feasible          boolean NOT NULL,
    solver            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL
);
CREATE UNIQUE INDEX route_plans_one_active_idx ON route_plans (plan_date)
    WHERE kind = 'plan' AND status = 'active';
CREATE INDEX route_plans_preview_idx ON route_plans (kind, threshold_pct, horizon_h, created_at DESC);

CREATE TABLE route_plan_routes (
    plan_id     bigint NOT NULL REFERENCES route_plans (id) ON DELETE CASCADE,
    route_no    smallint NOT NULL CHECK (route_no > 0),
    vehicle_id  text NOT NULL,
    order_id    bigint REFERENCES work_orders (id),
    stops       integer NOT NULL,
    distance_m  double precision NOT NULL,
    duration_s  double precision NOT NULL,
    load_l      double precision NOT NULL,
    capacity_l  double precision NOT NULL,
    PRIMARY KEY (plan_id, route_no)
);
CREATE INDEX route_plan_routes_order_idx ON route_plan_routes (order_id);

CREATE TABLE route_plan_stops (
    plan_id            bigint NOT NULL,
    route_no           smallint NOT NULL,
    seq                smallint NOT NULL CHECK (seq > 0),
    bin_id             text NOT NULL,
    reason             text NOT NULL CHECK (reason IN ('threshold', 'forecast', 'overflow', 'always')),
    latitude           double precision NOT NULL,
    longitude          double precision NOT NULL,
    eta                timestamptz NOT NULL,
    fill_now_pct       double precision,
    expected_fill_pct  double precision NOT NULL,
    load_l             double precision NOT NULL,
    done_at            timestamptz,
    PRIMARY KEY (plan_id, route_no, seq),
    FOREIGN KEY (plan_id, route_no) REFERENCES route_plan_routes (plan_id, route_no)
        ON DELETE CASCADE
);
CREATE INDEX route_plan_stops_bin_idx ON route_plan_stops (bin_id, eta DESC);
