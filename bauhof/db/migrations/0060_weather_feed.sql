-- Weather fetched from public services (`bauhof weather fetch|run`: Bright Sky over DWD open
-- data, Open-Meteo) beside what is published on MQTT `bauhof/weather/<station>` (the
-- simulator, a town's own station). One row per station and hour, as before; `time` is the
-- start of the hour the rain fell in. A forecast row is replaced by the observation of its
-- hour, never the other way round; `issued_at` keeps when the forecast was made.
ALTER TABLE weather
    ADD COLUMN source               text NOT NULL DEFAULT 'mqtt',
    ADD COLUMN kind                 text NOT NULL DEFAULT 'observed'
        CHECK (kind IN ('observed', 'forecast')),
    ADD COLUMN rain_probability_pct double precision
        CHECK (rain_probability_pct BETWEEN 0 AND 100),
    ADD COLUMN et0_mm               double precision CHECK (et0_mm >= 0),
    ADD COLUMN issued_at            timestamptz,
    ADD COLUMN fetched_at           timestamptz;

-- The forecast rows ahead of a time, for the rain expected in the next 24 hours.
CREATE INDEX weather_forecast_idx ON weather (time) WHERE kind = 'forecast';

-- One row per fetched source: the station it answered from and how the last attempts went,
-- so the API and dashboards can say how old the data is.
CREATE TABLE weather_feeds (
    source          text PRIMARY KEY,
    station         text,
    station_name    text,
    latitude        double precision,
    longitude       double precision,
    attribution     text NOT NULL,
    last_attempt_at timestamptz,
    last_success_at timestamptz,
    last_error      text,
    failures        integer NOT NULL DEFAULT 0,
    newest_observed timestamptz
);
