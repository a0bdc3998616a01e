-- Why a message was dead-lettered, as a code programs can match (the reason text stays for
-- people): set by ingest and by the rules engine (ingest/prepare.py REASON_CODES). Rows
-- stored before are coded from their reason text where its wording is recognisable.
ALTER TABLE dead_letters
    ADD COLUMN reason_code text NOT NULL DEFAULT 'unknown'
        CHECK (reason_code IN ('malformed', 'too_large', 'implausible', 'unknown_model',
                               'undecodable', 'refused_by_database', 'internal',
                               'refused_by_rules', 'unknown'));

UPDATE dead_letters SET reason_code = CASE
    WHEN reason LIKE 'implausible readings%' THEN 'implausible'
    WHEN reason LIKE 'rules engine refused the reading: %' THEN 'refused_by_rules'
    WHEN reason LIKE 'unknown model %' THEN 'unknown_model'
    WHEN reason LIKE 'decode error: %' THEN 'undecodable'
    WHEN reason ~ '^message of [0-9]+ bytes is (too large|larger than)' THEN 'too_large'
    WHEN reason LIKE 'database refused: %' THEN 'refused_by_database'
    WHEN reason LIKE 'cannot use the event: %' OR reason LIKE 'cannot store the event: %'
        THEN 'internal'
    ELSE 'unknown' END;
