-- ChirpStack v4 needs the pg_trgm extension in its database (run once, at the first start of
-- the chirpstack-postgres container, by the postgres image's init mechanism).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
