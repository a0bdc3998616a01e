-- Geometry shared by views, roll-ups and API queries (rules/ and planning/ compute the same in
-- Python: bauhof/assets.py bin_fill_pct, bauhof/geo.py distance_m).

-- Great-circle distance in metres: haversine on a sphere of radius 6371 km (bauhof.geo).
CREATE OR REPLACE FUNCTION bauhof_distance_m(lat1 double precision, lon1 double precision,
                                             lat2 double precision, lon2 double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 2 * 6371000 * asin(sqrt(
        power(sin(radians(lat2 - lat1) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * power(sin(radians(lon2 - lon1) / 2), 2)))
$$;

-- A bin's fill level in percent from a distance reading and the bin's installed geometry
-- (sensor to bottom when empty, sensor to the fill line when full), clamped to 0..100; NULL
-- without a distance or without a usable geometry (empty not above full). Not STRICT and a
-- single expression, so that the planner inlines it into the queries that call it per row.
CREATE OR REPLACE FUNCTION bauhof_bin_fill_pct(distance_mm double precision,
                                               empty_distance_mm double precision,
                                               full_distance_mm double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN distance_mm IS NOT NULL AND empty_distance_mm > full_distance_mm
                THEN greatest(0, least(100, 100 * (empty_distance_mm - distance_mm)
                                            / (empty_distance_mm - full_distance_mm))) END
$$;
