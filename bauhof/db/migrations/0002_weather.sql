-- Weather observations and forecasts (from the simulator's weather feed or a real one,
-- published on MQTT `bauhof/weather/<station>` and stored by ingest). The watering rule
-- holds back while rain falls or is forecast.
CREATE TABLE weather (
    time                   timestamptz NOT NULL,
    station                text NOT NULL,
    rain_mm_h              double precision NOT NULL CHECK (rain_mm_h >= 0),
    temperature_c          double precision,
    forecast_rain_mm_24h   double precision CHECK (forecast_rain_mm_24h >= 0),
    PRIMARY KEY (station, time)
);
CREATE INDEX weather_time_idx ON weather (time DESC);
