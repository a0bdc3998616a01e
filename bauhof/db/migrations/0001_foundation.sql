-- Foundation schema: devices, assets, raw events, readings, dead letters.
-- Chunk intervals: one week for raw uplinks and readings. The default town sends ~60,000
-- uplinks a day, a 100,000-sensor town ~20 million; a week-sized chunk of readings for the
-- default town is a few tens of MB, so the recent chunk and its indexes stay in memory
-- (TimescaleDB's advice: a chunk's indexes should fit in ~25 % of RAM).

CREATE EXTENSION IF NOT EXISTS timescaledb;

-- Assets -------------------------------------------------------------------------------

CREATE TABLE sponsors (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    email        text,
    phone        text,
    period_start date,
    period_end   date,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE green_areas (
    id                 text PRIMARY KEY,
    name               text NOT NULL,
    plant_type         text NOT NULL DEFAULT 'lawn',
    -- A point with a radius, or a GeoJSON polygon (lon/lat rings) when the area has one.
    latitude           double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude          double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    radius_m           double precision CHECK (radius_m > 0),
    polygon            jsonb,
    sponsor_id         text REFERENCES sponsors (id) ON DELETE SET NULL,
    moisture_low_pct   double precision CHECK (moisture_low_pct BETWEEN 0 AND 100),
    moisture_clear_pct double precision CHECK (moisture_clear_pct BETWEEN 0 AND 100),
    tags               jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (moisture_low_pct IS NULL OR moisture_clear_pct IS NULL
           OR moisture_low_pct < moisture_clear_pct)
);

CREATE TABLE bins (
    id                text PRIMARY KEY,
    name              text,
    waste_type        text NOT NULL DEFAULT 'residual',
    latitude          double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude         double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    volume_l          double precision NOT NULL CHECK (volume_l > 0),
    -- Distance from the sensor to the bottom of an empty bin and to waste in a full one.
    empty_distance_mm double precision NOT NULL CHECK (empty_distance_mm > 0),
    full_distance_mm  double precision NOT NULL CHECK (full_distance_mm >= 0),
    fill_threshold_pct double precision CHECK (fill_threshold_pct BETWEEN 0 AND 100),
    collection_weekday smallint CHECK (collection_weekday BETWEEN 0 AND 6),
    tags              jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK (full_distance_mm < empty_distance_mm)
);

CREATE TABLE vehicles (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    plate       text,
    kind        text NOT NULL DEFAULT 'truck',
    capacity_l  double precision CHECK (capacity_l > 0),
    tags        jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- Devices ------------------------------------------------------------------------------

CREATE TABLE devices (
    dev_eui              text PRIMARY KEY CHECK (dev_eui ~ '^[0-9a-f]{16}$'),
    model                text,
    kind                 text NOT NULL DEFAULT 'other'
                         CHECK (kind IN ('soil', 'bin', 'tracker', 'other')),
    name                 text,
    application_id       text,
    device_profile_id    text,
    device_profile_name  text,
    tags                 jsonb NOT NULL DEFAULT '{}'::jsonb,
    asset_type           text CHECK (asset_type IN ('green_area', 'bin', 'vehicle')),
    asset_id             text,
    expected_interval_s  integer CHECK (expected_interval_s > 0),
    first_seen           timestamptz,
    last_seen            timestamptz,
    last_battery_v       double precision,
    last_battery_pct     double precision,
    last_rssi            integer,
    last_snr             double precision,
    registered_by        text NOT NULL DEFAULT 'operator'
                         CHECK (registered_by IN ('operator', 'ingest', 'chirpstack')),
    CHECK ((asset_type IS NULL) = (asset_id IS NULL))
);
CREATE INDEX devices_asset_idx ON devices (asset_type, asset_id);

-- Raw events (hypertables) -------------------------------------------------------------

-- Every uplink as ChirpStack delivered it: enough to replay the stream byte for byte.
CREATE TABLE raw_uplinks (
    time              timestamptz NOT NULL,
    dev_eui           text NOT NULL,
    deduplication_id  uuid NOT NULL,
    application_id    text NOT NULL,
    f_cnt             bigint NOT NULL,
    f_port            integer NOT NULL,
    payload           bytea NOT NULL,
    confirmed         boolean NOT NULL DEFAULT false,
    dr                smallint,
    frequency         bigint,
    rssi              integer,
    snr               double precision,
    gateway_count     smallint NOT NULL DEFAULT 0,
    rx_info           jsonb,
    object            jsonb,
    received_at       timestamptz NOT NULL DEFAULT now()
);
SELECT create_hypertable('raw_uplinks', by_range('time', INTERVAL '7 days'));
CREATE UNIQUE INDEX raw_uplinks_dedup_idx ON raw_uplinks (deduplication_id, time);
CREATE INDEX raw_uplinks_dev_time_idx ON raw_uplinks (dev_eui, time DESC);

-- Normalised readings: one wide row per decoded uplink (see README, "Why one wide table").
-- ingest_xid is the writing transaction; the rules engine reads durably by it.
CREATE TABLE readings (
    time                     timestamptz NOT NULL,
    dev_eui                  text NOT NULL,
    deduplication_id         uuid NOT NULL,
    model                    text,
    asset_type               text,
    asset_id                 text,
    battery_v                double precision,
    battery_pct              double precision,
    temperature_c            double precision,
    soil_moisture_pct        double precision,
    soil_temperature_c       double precision,
    soil_conductivity_us_cm  double precision,
    distance_mm              double precision,
    tilted                   boolean,
    latitude                 double precision,
    longitude                double precision,
    altitude_m               double precision,
    hdop                     double precision,
    alarm                    boolean,
    motion                   text,
    roll_deg                 double precision,
    pitch_deg                double precision,
    extra                    jsonb,
    ingest_xid               xid8 NOT NULL DEFAULT pg_current_xact_id()
);
SELECT create_hypertable('readings', by_range('time', INTERVAL '7 days'));
CREATE UNIQUE INDEX readings_dedup_idx ON readings (deduplication_id, time);
CREATE INDEX readings_dev_time_idx ON readings (dev_eui, time DESC);
CREATE INDEX readings_asset_time_idx ON readings (asset_type, asset_id, time DESC)
    WHERE asset_id IS NOT NULL;
CREATE INDEX readings_xid_idx ON readings (ingest_xid);

-- One row per ingest commit: lets the rules engine find new readings without scanning.
CREATE TABLE ingest_batches (
    xid          xid8 PRIMARY KEY DEFAULT pg_current_xact_id(),
    committed_at timestamptz NOT NULL DEFAULT now(),
    min_time     timestamptz,
    max_time     timestamptz,
    readings     integer NOT NULL,
    worker       text NOT NULL
);

CREATE TABLE device_status (
    time                       timestamptz NOT NULL,
    dev_eui                    text NOT NULL,
    deduplication_id           uuid NOT NULL,
    margin                     integer,
    external_power_source      boolean,
    battery_level_unavailable  boolean,
    battery_level              double precision
);
SELECT create_hypertable('device_status', by_range('time', INTERVAL '30 days'));
CREATE UNIQUE INDEX device_status_dedup_idx ON device_status (deduplication_id, time);

-- join, log, ack, txack, location: kept for operators and the downlink path.
CREATE TABLE device_events (
    time              timestamptz NOT NULL,
    dev_eui           text NOT NULL,
    event_type        text NOT NULL,
    event_key         text NOT NULL,
    level             text,
    code              text,
    description       text,
    body              jsonb NOT NULL
);
SELECT create_hypertable('device_events', by_range('time', INTERVAL '30 days'));
CREATE UNIQUE INDEX device_events_key_idx ON device_events (event_type, event_key, time);
CREATE INDEX device_events_dev_idx ON device_events (dev_eui, time DESC);

-- Anything ingest could not use, with the reason; nothing is dropped.
CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    topic        text NOT NULL,
    payload      bytea NOT NULL,
    reason       text NOT NULL,
    dev_eui      text,
    -- sha256 of topic and payload: a redelivered bad message is stored once.
    digest       bytea NOT NULL UNIQUE,
    status       text NOT NULL DEFAULT 'new'
                 CHECK (status IN ('new', 'reprocessed', 'discarded'))
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at DESC);

-- Counters each ingest worker upserts periodically; the API reads them.
CREATE TABLE ingest_stats (
    worker          text PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    received        bigint NOT NULL DEFAULT 0,
    stored          bigint NOT NULL DEFAULT 0,
    duplicates      bigint NOT NULL DEFAULT 0,
    dead_lettered   bigint NOT NULL DEFAULT 0,
    lag_s           double precision
);

-- Bins' fill level is derived from asset geometry, never stored by codecs (the function is in
-- bauhof/db/functions/10_geometry.sql).
CREATE VIEW bin_fill AS
SELECT r.time, r.dev_eui, b.id AS bin_id,
       bauhof_bin_fill_pct(r.distance_mm, b.empty_distance_mm, b.full_distance_mm) AS fill_pct
FROM readings r
JOIN bins b ON r.asset_type = 'bin' AND r.asset_id = b.id
WHERE r.distance_mm IS NOT NULL;
