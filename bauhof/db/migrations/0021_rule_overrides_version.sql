-- The rules engine applies rule_overrides over its rules file. It reads this counter in the
-- statement that locks its cursor, so a change is in force from the first step whose snapshot
-- sees it: no extra round trip per step, and no race between a notification and the readings.
CREATE TABLE rule_overrides_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint NOT NULL
);
INSERT INTO rule_overrides_version (version) VALUES (0);

-- rule_overrides_changed(): bauhof/db/functions/20_triggers.sql
CREATE TRIGGER rule_overrides_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON rule_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION rule_overrides_changed();
