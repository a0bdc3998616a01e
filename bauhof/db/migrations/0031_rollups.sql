-- Roll-ups the dashboards read: hourly and daily per device (and, through views, per asset).
-- TimescaleDB's Apache edition has no continuous aggregates, so Bauhof maintains them itself
-- with `SELECT bauhof_refresh_rollups()` (bauhof/db/functions/40_rollups.sql).

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

-- rollup_asset_daily: migration 0062.

-- Readings with ingest_xid below next_xid are in the roll-ups.
CREATE TABLE rollup_state (
    name          text PRIMARY KEY,
    next_xid      xid8 NOT NULL DEFAULT '1'::xid8,
    refreshed_at  timestamptz,
    hours         bigint NOT NULL DEFAULT 0
);
INSERT INTO rollup_state (name) VALUES ('readings');

