-- Town-wide hourly roll-up (per asset type) for the panels that sum over every device, so a
-- year is 8,760 rows per asset type instead of millions; overflow hours per device-hour; and
-- an index for the Fleet dashboard's latest positions.

ALTER TABLE rollup_hourly ADD COLUMN overflow_hours integer NOT NULL DEFAULT 0;
ALTER TABLE rollup_daily ADD COLUMN overflow_hours integer NOT NULL DEFAULT 0;

CREATE TABLE rollup_town_hourly (
    bucket            timestamptz NOT NULL,
    asset_type        text NOT NULL,  -- '' for devices on no asset
    devices           integer NOT NULL,
    uplinks           integer NOT NULL,
    emptyings         integer NOT NULL,
    overflow_hours    integer NOT NULL,
    track_m           double precision NOT NULL,
    soil_moisture_avg double precision,
    rssi_avg          double precision,
    snr_avg           double precision,
    PRIMARY KEY (asset_type, bucket)
);
SELECT create_hypertable('rollup_town_hourly', by_range('bucket', INTERVAL '365 days'));

CREATE INDEX readings_vehicle_time_idx ON readings (time DESC) WHERE asset_type = 'vehicle';

-- The same refresh as 0031, plus overflow hours and the town-wide hours.
CREATE OR REPLACE FUNCTION bauhof_refresh_rollups() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    lo xid8;
    -- Every transaction below the snapshot's xmin has ended: its readings are all visible.
    hi xid8 := pg_snapshot_xmin(pg_current_snapshot());
    touched integer;
BEGIN
    SELECT next_xid INTO lo FROM rollup_state WHERE name = 'readings' FOR UPDATE;
    IF lo >= hi THEN
        RETURN 0;
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS bauhof_touched (dev_eui text, bucket timestamptz)
        ON COMMIT DELETE ROWS;
    DELETE FROM bauhof_touched;
    INSERT INTO bauhof_touched
    SELECT DISTINCT dev_eui, time_bucket(INTERVAL '1 hour', time)
    FROM readings WHERE ingest_xid >= lo AND ingest_xid < hi;
    GET DIAGNOSTICS touched = ROW_COUNT;

    -- Each touched hour from its readings, with the reading before it (an hour back) so
    -- that emptyings (a fill drop of 40 points or more) and track lengths cross hour ends.
    INSERT INTO rollup_hourly AS h (bucket, dev_eui, asset_type, asset_id, uplinks, battery_v,
        battery_pct, temperature_c, soil_moisture_avg, soil_moisture_min, fill_avg, fill_min,
        fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg, overflow_hours)
    SELECT bucket, dev_eui, max(asset_type), max(asset_id), count(*)::integer, min(battery_v),
           min(battery_pct), avg(temperature_c), avg(soil_moisture_pct),
           min(soil_moisture_pct), avg(fill), min(fill), max(fill),
           (array_agg(fill ORDER BY time DESC) FILTER (WHERE fill IS NOT NULL))[1],
           count(*) FILTER (WHERE prev_fill - fill >= 40)::integer,
           coalesce(sum(bauhof_distance_m(prev_lat, prev_lon, latitude, longitude))
                    FILTER (WHERE (latitude <> 0 OR longitude <> 0)
                              AND (prev_lat <> 0 OR prev_lon <> 0)), 0),
           avg(rssi), avg(snr), CASE WHEN max(fill) >= 100 THEN 1 ELSE 0 END
    FROM (
        SELECT t.bucket, r.dev_eui, r.time, r.asset_type, r.asset_id, r.battery_v,
               r.battery_pct, r.temperature_c, r.soil_moisture_pct, r.latitude, r.longitude,
               u.rssi, u.snr, f.fill,
               lag(f.fill) OVER w AS prev_fill, lag(r.latitude) OVER w AS prev_lat,
               lag(r.longitude) OVER w AS prev_lon
        FROM bauhof_touched t
        JOIN readings r ON r.dev_eui = t.dev_eui AND r.time >= t.bucket - INTERVAL '1 hour'
                       AND r.time < t.bucket + INTERVAL '1 hour'
        LEFT JOIN raw_uplinks u ON u.deduplication_id = r.deduplication_id AND u.time = r.time
        LEFT JOIN bins b ON r.asset_type = 'bin' AND r.asset_id = b.id
        CROSS JOIN LATERAL (SELECT CASE WHEN r.distance_mm IS NOT NULL THEN greatest(0,
                least(100, 100 * (b.empty_distance_mm - r.distance_mm)
                           / (b.empty_distance_mm - b.full_distance_mm))) END AS fill) f
        WINDOW w AS (PARTITION BY t.bucket, r.dev_eui ORDER BY r.time)
    ) x
    WHERE time >= bucket
    GROUP BY bucket, dev_eui
    ON CONFLICT (dev_eui, bucket) DO UPDATE SET
        asset_type = excluded.asset_type, asset_id = excluded.asset_id,
        uplinks = excluded.uplinks, battery_v = excluded.battery_v,
        battery_pct = excluded.battery_pct, temperature_c = excluded.temperature_c,
        soil_moisture_avg = excluded.soil_moisture_avg,
        soil_moisture_min = excluded.soil_moisture_min, fill_avg = excluded.fill_avg,
        fill_min = excluded.fill_min, fill_max = excluded.fill_max,
        fill_last = excluded.fill_last, emptyings = excluded.emptyings,
        track_m = excluded.track_m, rssi_avg = excluded.rssi_avg, snr_avg = excluded.snr_avg,
        overflow_hours = excluded.overflow_hours;

    -- The days of the touched hours, from the hourly rows.
    INSERT INTO rollup_daily AS d (bucket, dev_eui, asset_type, asset_id, uplinks, battery_v,
        battery_pct, temperature_c, soil_moisture_avg, soil_moisture_min, fill_avg, fill_min,
        fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg, overflow_hours)
    SELECT h.day, h.dev_eui, max(h.asset_type), max(h.asset_id), sum(h.uplinks)::integer,
           min(h.battery_v), min(h.battery_pct),
           sum(h.temperature_c * h.uplinks) / nullif(sum(h.uplinks) FILTER (
               WHERE h.temperature_c IS NOT NULL), 0),
           sum(h.soil_moisture_avg * h.uplinks) / nullif(sum(h.uplinks) FILTER (
               WHERE h.soil_moisture_avg IS NOT NULL), 0),
           min(h.soil_moisture_min),
           sum(h.fill_avg * h.uplinks) / nullif(sum(h.uplinks) FILTER (
               WHERE h.fill_avg IS NOT NULL), 0),
           min(h.fill_min), max(h.fill_max),
           (array_agg(h.fill_last ORDER BY h.bucket DESC) FILTER (
               WHERE h.fill_last IS NOT NULL))[1],
           sum(h.emptyings)::integer, sum(h.track_m),
           sum(h.rssi_avg * h.uplinks) / nullif(sum(h.uplinks) FILTER (
               WHERE h.rssi_avg IS NOT NULL), 0),
           sum(h.snr_avg * h.uplinks) / nullif(sum(h.uplinks) FILTER (
               WHERE h.snr_avg IS NOT NULL), 0),
           sum(h.overflow_hours)::integer
    FROM (SELECT DISTINCT dev_eui, time_bucket(INTERVAL '1 day', bucket) AS day
          FROM bauhof_touched) t
    JOIN LATERAL (SELECT rh.*, t.day FROM rollup_hourly rh
                  WHERE rh.dev_eui = t.dev_eui AND rh.bucket >= t.day
                    AND rh.bucket < t.day + INTERVAL '1 day') h ON true
    GROUP BY h.day, h.dev_eui
    ON CONFLICT (dev_eui, bucket) DO UPDATE SET
        asset_type = excluded.asset_type, asset_id = excluded.asset_id,
        uplinks = excluded.uplinks, battery_v = excluded.battery_v,
        battery_pct = excluded.battery_pct, temperature_c = excluded.temperature_c,
        soil_moisture_avg = excluded.soil_moisture_avg,
        soil_moisture_min = excluded.soil_moisture_min, fill_avg = excluded.fill_avg,
        fill_min = excluded.fill_min, fill_max = excluded.fill_max,
        fill_last = excluded.fill_last, emptyings = excluded.emptyings,
        track_m = excluded.track_m, rssi_avg = excluded.rssi_avg, snr_avg = excluded.snr_avg,
        overflow_hours = excluded.overflow_hours;

    -- The town-wide hours of the touched hours, from the hourly rows.
    INSERT INTO rollup_town_hourly AS w (bucket, asset_type, devices, uplinks, emptyings,
        overflow_hours, track_m, soil_moisture_avg, rssi_avg, snr_avg)
    SELECT h.bucket, coalesce(h.asset_type, ''), count(*)::integer, sum(h.uplinks)::integer,
           sum(h.emptyings)::integer, sum(h.overflow_hours)::integer, sum(h.track_m),
           avg(h.soil_moisture_avg), avg(h.rssi_avg), avg(h.snr_avg)
    FROM rollup_hourly h
    WHERE h.bucket IN (SELECT DISTINCT bucket FROM bauhof_touched)
    GROUP BY h.bucket, coalesce(h.asset_type, '')
    ON CONFLICT (asset_type, bucket) DO UPDATE SET
        devices = excluded.devices, uplinks = excluded.uplinks,
        emptyings = excluded.emptyings, overflow_hours = excluded.overflow_hours,
        track_m = excluded.track_m, soil_moisture_avg = excluded.soil_moisture_avg,
        rssi_avg = excluded.rssi_avg, snr_avg = excluded.snr_avg;

    UPDATE rollup_state SET next_xid = hi, refreshed_at = now(), hours = hours + touched
    WHERE name = 'readings';
    RETURN touched;
END;
$$;
