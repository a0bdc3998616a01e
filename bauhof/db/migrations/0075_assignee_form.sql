-- One written form for whom an order is assigned to (bauhof/assignee.py): `<kind>:<id>`.
-- The simulator's crews used to write themselves as bare `crew-1` when they worked on the
-- database directly, and as `crew:crew-1` through the API; every crew is now `crew:<name>`.
-- Order history is append-only and stays as it was written.
UPDATE work_orders SET assignee = 'crew:' || assignee
WHERE assignee ~ '^crew-[0-9]+$';
UPDATE work_orders SET resolved_by = 'crew:' || resolved_by
WHERE resolved_by ~ '^crew-[0-9]+$';
