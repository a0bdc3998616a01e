-- The fill a curve expects `hours` after its as_of: linear between hours, held at its ends
-- (planning/forecast.py Forecast.fill_at does the same).
CREATE OR REPLACE FUNCTION bauhof_curve_at(curve real[], hours double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN hours <= 0 THEN curve[1]
        WHEN hours >= cardinality(curve) - 1 THEN curve[cardinality(curve)]
        ELSE curve[floor(hours)::int + 1]
             + (hours - floor(hours)) * (curve[floor(hours)::int + 2] - curve[floor(hours)::int + 1])
    END
$$;
