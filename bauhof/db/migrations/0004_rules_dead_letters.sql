-- The rules engine also reads dead letters: an uplink ingest rejected as physically
-- implausible is a sign of broken hardware (a health.impossible defect).
ALTER TABLE rules_cursor ADD COLUMN dead_letter_id bigint NOT NULL DEFAULT 0;
