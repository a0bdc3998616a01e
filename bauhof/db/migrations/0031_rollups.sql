-- Roll-ups the dashboards read: hourly and daily per device (and, through views, per asset).
-- TimescaleDB's Apache edition has no continuous aggregates, so Bauhof maintains them itself:
-- `SELECT bauhof_refresh_rollups()` recomputes every (device, hour) that received readings
-- since the last refresh (found by the writing transaction id, like the rules engine's
-- cursor), then the days those hours belong to. It is idempotent (each bucket is recomputed
-- from the readings, not incremented) and safe to call from several processes at once.

CREATE FUNCTION bauhof_distance_m(lat1 double precision, lon1 double precision,
                                  lat2 double precision, lon2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- Haversine on a sphere of radius 6371 km (as planning/distances.py).
    SELECT 2 * 6371000 * asin(sqrt(
        power(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)))
$$;

CREATE TABLE rollup_hourly (
    bucket           timestamptz NOT NULL,
    dev_eui          text NOT NULL,
    asset_type       text,
    asset_id         text,
    uplinks          integer NOT NULL,
    battery_v        double precision,
    battery_pct      double precision,
    temperature_c    double precision,
    soil_moisture_avg double precision,
    soil_moisture_min double precision,
    fill_avg         double precision,
    fill_min         double precision,
    fill_max         double precision,
    fill_last        double precision,
    emptyings        integer NOT NULL DEFAULT 0,
    track_m          double precision NOT NULL DEFAULT 0,
    rssi_avg         double precision,
    snr_avg          double precision,
    PRIMARY KEY (dev_eui, bucket)
);
SELECT create_hypertable('rollup_hourly', by_range('bucket', INTERVAL '30 days'));
CREATE INDEX rollup_hourly_asset_idx ON rollup_hourly (asset_type, asset_id, bucket DESC);

CREATE TABLE rollup_daily (LIKE rollup_hourly INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rollup_daily ADD PRIMARY KEY (dev_eui, bucket);
SELECT create_hypertable('rollup_daily', by_range('bucket', INTERVAL '365 days'));
CREATE INDEX rollup_daily_asset_idx ON rollup_daily (asset_type, asset_id, bucket DESC);

-- Per asset: the devices of an asset together (usually one).
CREATE VIEW rollup_asset_hourly AS
SELECT bucket, asset_type, asset_id, sum(uplinks)::integer AS uplinks,
       avg(soil_moisture_avg) AS soil_moisture_avg, min(soil_moisture_min) AS soil_moisture_min,
       avg(fill_avg) AS fill_avg, max(fill_max) AS fill_max, max(fill_last) AS fill_last,
       sum(emptyings)::integer AS emptyings, sum(track_m) AS track_m
FROM rollup_hourly WHERE asset_id IS NOT NULL
GROUP BY bucket, asset_type, asset_id;

CREATE VIEW rollup_asset_daily AS
SELECT bucket, asset_type, asset_id, sum(uplinks)::integer AS uplinks,
       avg(soil_moisture_avg) AS soil_moisture_avg, min(soil_moisture_min) AS soil_moisture_min,
       avg(fill_avg) AS fill_avg, max(fill_max) AS fill_max, max(fill_last) AS fill_last,
       sum(emptyings)::integer AS emptyings, sum(track_m) AS track_m
FROM rollup_daily WHERE asset_id IS NOT NULL
GROUP BY bucket, asset_type, asset_id;

-- Readings with ingest_xid below next_xid are in the roll-ups.
CREATE TABLE rollup_state (
    name          text PRIMARY KEY,
    next_xid      xid8 NOT NULL DEFAULT '1'::xid8,
    refreshed_at  timestamptz,
    hours         bigint NOT NULL DEFAULT 0
);
INSERT INTO rollup_state (name) VALUES ('readings');

CREATE FUNCTION bauhof_refresh_rollups() RETURNS integer LANGUAGE plpgsql AS $$
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
        fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg)
    SELECT bucket, dev_eui, max(asset_type), max(asset_id), count(*)::integer, min(battery_v),
           min(battery_pct), avg(temperature_c), avg(soil_moisture_pct),
           min(soil_moisture_pct), avg(fill), min(fill), max(fill),
           (array_agg(fill ORDER BY time DESC) FILTER (WHERE fill IS NOT NULL))[1],
           count(*) FILTER (WHERE prev_fill - fill >= 40)::integer,
           coalesce(sum(bauhof_distance_m(prev_lat, prev_lon, latitude, longitude))
                    FILTER (WHERE (latitude <> 0 OR longitude <> 0)
                              AND (prev_lat <> 0 OR prev_lon <> 0)), 0),
           avg(rssi), avg(snr)
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
        track_m = excluded.track_m, rssi_avg = excluded.rssi_avg, snr_avg = excluded.snr_avg;

    -- The days of the touched hours, from the hourly rows.
    INSERT INTO rollup_daily AS d (bucket, dev_eui, asset_type, asset_id, uplinks, battery_v,
        battery_pct, temperature_c, soil_moisture_avg, soil_moisture_min, fill_avg, fill_min,
        fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg)
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
               WHERE h.snr_avg IS NOT NULL), 0)
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
        track_m = excluded.track_m, rssi_avg = excluded.rssi_avg, snr_avg = excluded.snr_avg;

    UPDATE rollup_state SET next_xid = hi, refreshed_at = now(), hours = hours + touched
    WHERE name = 'readings';
    RETURN touched;
END;
$$;
