-- The API keeps the principal of a recently checked token for a few seconds instead of looking
-- it up on every request. Revoking a token, disabling a user or changing a role tells every
-- API process at once: they LISTEN on bauhof_auth and forget what they kept.
-- bauhof_auth_changed(): bauhof/db/functions/20_triggers.sql

CREATE TRIGGER api_tokens_auth_changed
    AFTER UPDATE OF revoked_at, expires_at, user_id, token_hash OR DELETE OR TRUNCATE
    ON api_tokens FOR EACH STATEMENT EXECUTE FUNCTION bauhof_auth_changed();

CREATE TRIGGER api_users_auth_changed
    AFTER UPDATE OF disabled_at, role, name OR DELETE OR TRUNCATE
    ON api_users FOR EACH STATEMENT EXECUTE FUNCTION bauhof_auth_changed();
