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

