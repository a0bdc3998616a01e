-- A raw uplink's `rx_info` and `object` as `json`, the text as ChirpStack sent it, instead of
-- `jsonb`. They are kept to rebuild the event (`replay --from-db`, `whatif --from-db`), and
-- nothing queries inside them; parsing every uplink's ~1 kB of gateway metadata into jsonb
-- was about half of PostgreSQL's CPU per stored uplink (README, "Replay performance").
-- `json` checks the text is JSON and stores it as it is: rows read back as the same values.
--
-- Rows stored before keep their values (jsonb's text: its key order, ", " and ": "); the
-- table and its indexes are rewritten once, chunk by chunk, ingest waiting on its lock.
-- TimescaleDB cannot change a column's type while compression is enabled on the hypertable
-- (community edition; the Apache edition has no compression): then the columns stay jsonb,
-- which ingest writes as before (json is assigned to jsonb).
DO $$
BEGIN
    IF EXISTS (SELECT FROM timescaledb_information.hypertables
               WHERE hypertable_schema = current_schema() AND hypertable_name = 'raw_uplinks'
                 AND compression_enabled) THEN
        RAISE NOTICE 'raw_uplinks has compression enabled: rx_info and object stay jsonb';
    ELSE
        ALTER TABLE raw_uplinks
            ALTER COLUMN rx_info TYPE json USING rx_info::json,
            ALTER COLUMN object TYPE json USING object::json;
    END IF;
END $$;
