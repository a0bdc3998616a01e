-- An order's assignee only in the form bauhof/assignee.py accepts: `<kind>:<id>`, kind crew,
-- sponsor or vehicle, the id 1 to 64 characters without whitespace or colons; NULL for
-- nobody. The API, the simulator and the rules engine write it through `Assignee`; the
-- constraint keeps any other writer (a script, psql) from storing what they cannot read.
-- A bare id (a crew written by its name alone, as the simulator's crews once were) becomes
-- that crew first; any other value stops the migration, naming the orders to correct.
UPDATE work_orders SET assignee = 'crew:' || assignee
WHERE assignee ~ '^[^\s:]{1,64}$';

DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s (%L)', id, assignee), ', ' ORDER BY id) INTO bad
    FROM work_orders WHERE assignee !~ '^(crew|sponsor|vehicle):[^\s:]{1,64}$';
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'work orders with an assignee not of the form <kind>:<id>: %', bad
            USING HINT = 'set each to crew:<name>, sponsor:<id>, vehicle:<id> or NULL, '
                         'then run `bauhof db migrate` again';
    END IF;
END $$;

ALTER TABLE work_orders ADD CONSTRAINT work_orders_assignee_form
    CHECK (assignee ~ '^(crew|sponsor|vehicle):[^\s:]{1,64}$');
