-- Stored functions now live in bauhof/db/functions/ and are re-applied by every `db migrate`;
-- this migration makes the schema of a database migrated before that the same as a fresh one.

-- One daily aggregate: rollup_daily takes over readings_daily's per-name partial aggregates
-- (count, sum, minimum and maximum of every numeric reading, which the API adds up: see
-- bauhof/db/functions/40_rollups.sql for their exactness), in place of the daily minimum or
-- average of a few of them. Its dashboard figures (fill, emptyings, track, radio) stay.
DROP VIEW IF EXISTS rollup_asset_daily;  -- 0031 made it before 0062 was written
ALTER TABLE rollup_daily DROP COLUMN battery_v, DROP COLUMN battery_pct,
    DROP COLUMN temperature_c, DROP COLUMN soil_moisture_avg, DROP COLUMN soil_moisture_min;
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['battery_v', 'battery_pct', 'temperature_c',
        'soil_moisture_pct', 'soil_temperature_c', 'soil_conductivity_us_cm', 'distance_mm',
        'latitude', 'longitude', 'altitude_m', 'hdop', 'roll_deg', 'pitch_deg'] LOOP
        EXECUTE format('ALTER TABLE rollup_daily ADD COLUMN %1$I integer NOT NULL DEFAULT 0, '
                       'ADD COLUMN %2$I double precision, ADD COLUMN %3$I double precision, '
                       'ADD COLUMN %4$I double precision', name || '_n', name || '_sum',
                       name || '_min', name || '_max');
    END LOOP;
END $$;

CREATE VIEW rollup_asset_daily AS
SELECT bucket, asset_type, asset_id, sum(uplinks)::integer AS uplinks,
       avg(soil_moisture_pct_sum / nullif(soil_moisture_pct_n, 0)) AS soil_moisture_avg,
       min(soil_moisture_pct_min) AS soil_moisture_min, avg(fill_avg) AS fill_avg,
       max(fill_max) AS fill_max, max(fill_last) AS fill_last,
       sum(emptyings)::integer AS emptyings, sum(track_m) AS track_m
FROM rollup_daily WHERE asset_id IS NOT NULL GROUP BY bucket, asset_type, asset_id;

-- Retention drops old readings but keeps the roll-ups: days before kept_from (NULL: none)
-- no longer have their readings, so the API does not add up their partial aggregates
-- (bauhof/db/retention.py).
ALTER TABLE rollup_state ADD COLUMN kept_from timestamptz;
UPDATE rollup_state SET kept_from = (SELECT min(range_start)
    FROM timescaledb_information.chunks WHERE hypertable_name = 'readings')
WHERE name = 'readings';
-- The days that still have readings are rebuilt from them by the next refresh, which starts
-- over from the first transaction (until then the API reads the readings themselves).
DELETE FROM rollup_daily
WHERE bucket >= coalesce((SELECT kept_from FROM rollup_state WHERE name = 'readings'),
                         '-infinity');
UPDATE rollup_state SET next_xid = '1' WHERE name = 'readings';

DROP TABLE IF EXISTS readings_daily;
DROP FUNCTION IF EXISTS bauhof_refresh_readings_daily();
DELETE FROM rollup_state WHERE name = 'readings_daily';

-- Bins' fill level from the one fill function (bauhof/db/functions/10_geometry.sql).
CREATE OR REPLACE VIEW bin_fill AS
SELECT r.time, r.dev_eui, b.id AS bin_id,
       bauhof_bin_fill_pct(r.distance_mm, b.empty_distance_mm, b.full_distance_mm) AS fill_pct
FROM readings r
JOIN bins b ON r.asset_type = 'bin' AND r.asset_id = b.id
WHERE r.distance_mm IS NOT NULL;
