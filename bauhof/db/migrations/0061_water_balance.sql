-- Each green area's water balance (rules/water_balance.py), as the rules engine last
-- computed it (once per event-time hour while weather is stored): rain in, evapotranspiration
-- out and recorded waterings over the last seven days, the root zone's depletion and what a
-- watering would take. Read by the API beside the measured moisture and by the dashboards.
CREATE TABLE water_balance (
    area_id         text PRIMARY KEY REFERENCES green_areas (id) ON DELETE CASCADE,
    as_of           timestamptz NOT NULL,
    rain_7d_mm      double precision NOT NULL,
    et_7d_mm        double precision NOT NULL,
    watered_7d_mm   double precision NOT NULL,
    deficit_mm      double precision NOT NULL CHECK (deficit_mm >= 0),
    capacity_mm     double precision NOT NULL CHECK (capacity_mm > 0),
    trigger_mm      double precision NOT NULL CHECK (trigger_mm > 0),
    needs_water     boolean NOT NULL,
    et0_source      text NOT NULL,
    litres          integer,
    litres_per_m2   double precision,
    litres_per_tree integer,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
