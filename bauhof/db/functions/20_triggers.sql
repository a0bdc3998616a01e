-- Trigger functions (the triggers themselves are created by the migrations of their tables).

-- order_history (migration 0003) is append-only.
CREATE OR REPLACE FUNCTION bauhof_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Any change to rule_overrides bumps the counter the rules engine reads (migration 0021).
CREATE OR REPLACE FUNCTION rule_overrides_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rule_overrides_version SET version = version + 1;
    RETURN NULL;
END $$;

-- A revoked token or a changed user tells every API process to forget its cached principals
-- (migration 0035).
CREATE OR REPLACE FUNCTION bauhof_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bauhof_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;
