-- Daily partial aggregates of every numeric reading per device, so that the API answers a
-- year of readings in day (or wider) buckets from 365 rows instead of 8,760
-- (api/routes/readings.py).
--
-- Exactness: a row holds precisely the device's readings of that UTC day whose writing
-- transaction (ingest_xid) is below the watermark rollup_state('readings_daily').next_xid.
-- The watermark is a snapshot's xmin, so every transaction below it has ended and that set
-- of readings can no longer change; `bauhof_refresh_readings_daily()` recomputes each
-- (device, day) that received readings in [old watermark, new watermark) from exactly the
-- readings below the new one. A reader adds the readings at or above the watermark from the
-- readings table itself, so answers are as fresh as the readings, refreshed or not.
-- Sums and counts (not averages) are kept so that days combine into weeks and longer.

CREATE TABLE readings_daily (
    dev_eui text NOT NULL,
    day     timestamptz NOT NULL,
    rows    integer NOT NULL,
    battery_v_n integer NOT NULL DEFAULT 0, battery_v_sum double precision,
    battery_v_min double precision, battery_v_max double precision,
    battery_pct_n integer NOT NULL DEFAULT 0, battery_pct_sum double precision,
    battery_pct_min double precision, battery_pct_max double precision,
    temperature_c_n integer NOT NULL DEFAULT 0, temperature_c_sum double precision,
    temperature_c_min double precision, temperature_c_max double precision,
    soil_moisture_pct_n integer NOT NULL DEFAULT 0, soil_moisture_pct_sum double precision,
    soil_moisture_pct_min double precision, soil_moisture_pct_max double precision,
    soil_temperature_c_n integer NOT NULL DEFAULT 0, soil_temperature_c_sum double precision,
    soil_temperature_c_min double precision, soil_temperature_c_max double precision,
    soil_conductivity_us_cm_n integer NOT NULL DEFAULT 0,
    soil_conductivity_us_cm_sum double precision,
    soil_conductivity_us_cm_min double precision, soil_conductivity_us_cm_max double precision,
    distance_mm_n integer NOT NULL DEFAULT 0, distance_mm_sum double precision,
    distance_mm_min double precision, distance_mm_max double precision,
    latitude_n integer NOT NULL DEFAULT 0, latitude_sum double precision,
    latitude_min double precision, latitude_max double precision,
    longitude_n integer NOT NULL DEFAULT 0, longitude_sum double precision,
    longitude_min double precision, longitude_max double precision,
    altitude_m_n integer NOT NULL DEFAULT 0, altitude_m_sum double precision,
    altitude_m_min double precision, altitude_m_max double precision,
    hdop_n integer NOT NULL DEFAULT 0, hdop_sum double precision,
    hdop_min double precision, hdop_max double precision,
    roll_deg_n integer NOT NULL DEFAULT 0, roll_deg_sum double precision,
    roll_deg_min double precision, roll_deg_max double precision,
    pitch_deg_n integer NOT NULL DEFAULT 0, pitch_deg_sum double precision,
    pitch_deg_min double precision, pitch_deg_max double precision,
    PRIMARY KEY (dev_eui, day)
);

INSERT INTO rollup_state (name) VALUES ('readings_daily');

CREATE FUNCTION bauhof_refresh_readings_daily() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    lo xid8;
    hi xid8 := pg_snapshot_xmin(pg_current_snapshot());
    touched integer;
    first_day timestamptz;
    past_day timestamptz;
BEGIN
    SELECT next_xid INTO lo FROM rollup_state WHERE name = 'readings_daily' FOR UPDATE;
    IF lo >= hi THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS bauhof_touched_days (dev_eui text, day timestamptz)
        ON COMMIT DELETE ROWS;
    DELETE FROM bauhof_touched_days;
    INSERT INTO bauhof_touched_days
    SELECT DISTINCT dev_eui, time_bucket(INTERVAL '1 day', time)
    FROM readings WHERE ingest_xid >= lo AND ingest_xid < hi;
    GET DIAGNOSTICS touched = ROW_COUNT;
    -- Statistics and a time window let the planner scan the touched days' chunks with a hash
    -- semi-join, not probe the readings index once per (device, day) and chunk.
    ANALYZE bauhof_touched_days;
    SELECT min(day), max(day) + INTERVAL '1 day' INTO first_day, past_day
    FROM bauhof_touched_days;

    -- Each touched day again from exactly the readings below the new watermark.
    DELETE FROM readings_daily d USING bauhof_touched_days t
    WHERE d.dev_eui = t.dev_eui AND d.day = t.day;
    INSERT INTO readings_daily (dev_eui, day, rows, battery_v_n, battery_v_sum, battery_v_min,
        battery_v_max, battery_pct_n, battery_pct_sum, battery_pct_min, battery_pct_max,
        temperature_c_n, temperature_c_sum, temperature_c_min, temperature_c_max,
        soil_moisture_pct_n, soil_moisture_pct_sum, soil_moisture_pct_min, soil_moisture_pct_max,
        soil_temperature_c_n, soil_temperature_c_sum, soil_temperature_c_min,
        soil_temperature_c_max, soil_conductivity_us_cm_n, soil_conductivity_us_cm_sum,
        soil_conductivity_us_cm_min, soil_conductivity_us_cm_max, distance_mm_n, distance_mm_sum,
        distance_mm_min, distance_mm_max, latitude_n, latitude_sum, latitude_min, latitude_max,
        longitude_n, longitude_sum, longitude_min, longitude_max, altitude_m_n, altitude_m_sum,
        altitude_m_min, altitude_m_max, hdop_n, hdop_sum, hdop_min, hdop_max, roll_deg_n,
        roll_deg_sum, roll_deg_min, roll_deg_max, pitch_deg_n, pitch_deg_sum, pitch_deg_min,
        pitch_deg_max)
    SELECT r.dev_eui, time_bucket(INTERVAL '1 day', r.time), count(*)::integer,
           count(r.battery_v)::integer, sum(r.battery_v),
           min(r.battery_v), max(r.battery_v),
           count(r.battery_pct)::integer, sum(r.battery_pct),
           min(r.battery_pct), max(r.battery_pct),
           count(r.temperature_c)::integer, sum(r.temperature_c),
           min(r.temperature_c), max(r.temperature_c),
           count(r.soil_moisture_pct)::integer, sum(r.soil_moisture_pct),
           min(r.soil_moisture_pct), max(r.soil_moisture_pct),
           count(r.soil_temperature_c)::integer, sum(r.soil_temperature_c),
           min(r.soil_temperature_c), max(r.soil_temperature_c),
           count(r.soil_conductivity_us_cm)::integer, sum(r.soil_conductivity_us_cm),
           min(r.soil_conductivity_us_cm), max(r.soil_conductivity_us_cm),
           count(r.distance_mm)::integer, sum(r.distance_mm),
           min(r.distance_mm), max(r.distance_mm),
           count(r.latitude)::integer, sum(r.latitude),
           min(r.latitude), max(r.latitude),
           count(r.longitude)::integer, sum(r.longitude),
           min(r.longitude), max(r.longitude),
           count(r.altitude_m)::integer, sum(r.altitude_m),
           min(r.altitude_m), max(r.altitude_m),
           count(r.hdop)::integer, sum(r.hdop),
           min(r.hdop), max(r.hdop),
           count(r.roll_deg)::integer, sum(r.roll_deg),
           min(r.roll_deg), max(r.roll_deg),
           count(r.pitch_deg)::integer, sum(r.pitch_deg),
           min(r.pitch_deg), max(r.pitch_deg)
    FROM readings r
    WHERE r.time >= first_day AND r.time < past_day AND r.ingest_xid < hi
      AND (r.dev_eui, time_bucket(INTERVAL '1 day', r.time)) IN (
          SELECT dev_eui, day FROM bauhof_touched_days)
    GROUP BY 1, 2;

    UPDATE rollup_state SET next_xid = hi, refreshed_at = now(), hours = hours + touched
    WHERE name = 'readings_daily';
    RETURN touched;
END;
$$;
