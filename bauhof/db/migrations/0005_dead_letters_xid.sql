-- The rules engine reads dead letters by the transaction that wrote them, as it reads readings
-- (readings.ingest_xid): ids from concurrent transactions can commit out of order, so a cursor
-- on the id could pass one still uncommitted; every transaction below the snapshot's xmin has
-- finished. Rows the engine has already read keep NULL; those it had not get this migration's
-- transaction, which the cursor (next_xid) has not yet passed.
ALTER TABLE dead_letters ADD COLUMN ingest_xid xid8;
UPDATE dead_letters SET ingest_xid = pg_current_xact_id()
WHERE id > coalesce((SELECT min(dead_letter_id) FROM rules_cursor), 0);
ALTER TABLE dead_letters ALTER COLUMN ingest_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX dead_letters_xid_idx ON dead_letters (ingest_xid);
ALTER TABLE rules_cursor DROP COLUMN dead_letter_id;
