-- The roll-ups (tables of migrations 0031, 0032 and 0062), maintained by Bauhof itself because
-- the Apache edition of TimescaleDB has no continuous aggregates (dashboards/rollups.py calls
-- this after ingest commits, or `bauhof dashboards rollups --every 60`).
--
-- `SELECT bauhof_refresh_rollups()` recomputes every (device, hour) that received readings
-- since the last refresh (found by the writing transaction id, like the rules engine's
-- cursor), then the days and town-wide hours those hours belong to. It is idempotent (each
-- bucket is recomputed from the readings, not incremented) and safe to call from several
-- processes at once (the watermark row is locked).
--
-- Exactness of the daily partial aggregates (the `<name>_n`, `_sum`, `_min`, `_max` columns
-- of rollup_daily, which api/routes/readings.py adds up): a day's row holds precisely the
-- device's readings of that UTC day whose ingest_xid is below the watermark
-- rollup_state('readings').next_xid. The watermark is a snapshot's xmin, so every transaction
-- below it has ended and that set of readings can no longer change; a reader adds the readings
-- at or above the watermark from the readings table itself.
CREATE OR REPLACE FUNCTION bauhof_refresh_rollups() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    lo xid8;
    -- Every transaction below the snapshot's xmin has ended: its readings are all visible.
    hi xid8 := pg_snapshot_xmin(pg_current_snapshot());
    touched integer;
    first_hour timestamptz;
    past_hour timestamptz;
    first_day timestamptz;
    past_day timestamptz;
    stat_columns text;
    stat_values text;
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
    ANALYZE bauhof_touched;
    SELECT min(bucket), max(bucket) + INTERVAL '1 hour' INTO first_hour, past_hour
    FROM bauhof_touched;

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
        SELECT r.bucket, r.dev_eui, r.time, r.asset_type, r.asset_id, r.battery_v,
               r.battery_pct, r.temperature_c, r.soil_moisture_pct, r.latitude, r.longitude,
               u.rssi, u.snr, f.fill,
               lag(f.fill) OVER w AS prev_fill, lag(r.latitude) OVER w AS prev_lat,
               lag(r.longitude) OVER w AS prev_lon
        FROM (
            -- A touched hour's readings and those of the hour before, found by equality on
            -- (device, hour) so that the planner can hash-join a time-bounded scan instead
            -- of probing the readings index of every chunk once per touched hour.
            SELECT t.bucket, r.* FROM bauhof_touched t
            JOIN readings r ON r.dev_eui = t.dev_eui
                           AND time_bucket(INTERVAL '1 hour', r.time) = t.bucket
            WHERE r.time >= first_hour AND r.time < past_hour
            UNION ALL
            SELECT t.bucket, r.* FROM bauhof_touched t
            JOIN readings r ON r.dev_eui = t.dev_eui
                           AND time_bucket(INTERVAL '1 hour', r.time) = t.bucket - INTERVAL '1 hour'
            WHERE r.time >= first_hour - INTERVAL '1 hour' AND r.time < past_hour
        ) r
        LEFT JOIN raw_uplinks u ON u.deduplication_id = r.deduplication_id AND u.time = r.time
        LEFT JOIN bins b ON r.asset_type = 'bin' AND r.asset_id = b.id
        CROSS JOIN LATERAL (SELECT bauhof_bin_fill_pct(r.distance_mm, b.empty_distance_mm,
                                                       b.full_distance_mm) AS fill) f
        WINDOW w AS (PARTITION BY r.bucket, r.dev_eui ORDER BY r.time)
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

    -- The days of the touched hours, each again: per reading name (every `<name>_n` column of
    -- rollup_daily) a count, sum, minimum and maximum from exactly the readings below the new
    -- watermark, and the dashboards' fill, emptyings, track and radio figures from the hours.
    CREATE TEMP TABLE IF NOT EXISTS bauhof_touched_days (dev_eui text, day timestamptz)
        ON COMMIT DELETE ROWS;
    DELETE FROM bauhof_touched_days;
    INSERT INTO bauhof_touched_days
    SELECT DISTINCT dev_eui, time_bucket(INTERVAL '1 day', bucket) FROM bauhof_touched;
    -- Statistics and a time window let the planner scan the touched days' chunks with a hash
    -- semi-join, not probe the readings index once per (device, day) and chunk.
    ANALYZE bauhof_touched_days;
    SELECT min(day), max(day) + INTERVAL '1 day' INTO first_day, past_day
    FROM bauhof_touched_days;
    SELECT string_agg(format('%1$I_n, %1$I_sum, %1$I_min, %1$I_max', name), ', ' ORDER BY num),
           string_agg(format('count(r.%1$I)::integer, sum(r.%1$I), min(r.%1$I), max(r.%1$I)',
                             name), ', ' ORDER BY num)
    INTO stat_columns, stat_values
    FROM (SELECT attnum AS num, left(attname, -2) AS name FROM pg_attribute
          WHERE attrelid = 'rollup_daily'::regclass AND attname LIKE '%\_n'
            AND NOT attisdropped) c;

    DELETE FROM rollup_daily d USING bauhof_touched_days t
    WHERE d.dev_eui = t.dev_eui AND d.bucket = t.day;
    EXECUTE format($sql$
        INSERT INTO rollup_daily (dev_eui, bucket, asset_type, asset_id, uplinks, %s,
            fill_avg, fill_min, fill_max, fill_last, emptyings, track_m, rssi_avg, snr_avg,
            overflow_hours)
        SELECT r.*, h.fill_avg, h.fill_min, h.fill_max, h.fill_last, coalesce(h.emptyings, 0),
               coalesce(h.track_m, 0), h.rssi_avg, h.snr_avg, coalesce(h.overflow_hours, 0)
        FROM (SELECT r.dev_eui, time_bucket(INTERVAL '1 day', r.time) AS day,
                     max(r.asset_type) AS asset_type, max(r.asset_id) AS asset_id,
                     count(*)::integer AS uplinks, %s
              FROM readings r
              WHERE r.time >= $2 AND r.time < $3 AND r.ingest_xid < $1
                AND (r.dev_eui, time_bucket(INTERVAL '1 day', r.time)) IN (
                    SELECT dev_eui, day FROM bauhof_touched_days)
              GROUP BY 1, 2) r
        LEFT JOIN LATERAL (
            SELECT sum(rh.fill_avg * rh.uplinks) / nullif(sum(rh.uplinks) FILTER (
                       WHERE rh.fill_avg IS NOT NULL), 0) AS fill_avg,
                   min(rh.fill_min) AS fill_min, max(rh.fill_max) AS fill_max,
                   (array_agg(rh.fill_last ORDER BY rh.bucket DESC) FILTER (
                       WHERE rh.fill_last IS NOT NULL))[1] AS fill_last,
                   sum(rh.emptyings)::integer AS emptyings, sum(rh.track_m) AS track_m,
                   sum(rh.rssi_avg * rh.uplinks) / nullif(sum(rh.uplinks) FILTER (
                       WHERE rh.rssi_avg IS NOT NULL), 0) AS rssi_avg,
                   sum(rh.snr_avg * rh.uplinks) / nullif(sum(rh.uplinks) FILTER (
                       WHERE rh.snr_avg IS NOT NULL), 0) AS snr_avg,
                   sum(rh.overflow_hours)::integer AS overflow_hours
            FROM rollup_hourly rh
            WHERE rh.dev_eui = r.dev_eui AND rh.bucket >= r.day
              AND rh.bucket < r.day + INTERVAL '1 day') h ON true
        $sql$, stat_columns, stat_values) USING hi, first_day, past_day;

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
