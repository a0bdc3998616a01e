-- The HTTP API: people and their tokens, Open311 keys and requests, photos of finished
-- orders, and per-asset rule settings changed through the API.

-- People ------------------------------------------------------------------------------

-- A crew (one login per crew, shared on the crew's phone), a planner or an administrator.
-- A crew's orders carry `crew:<name>` as assignee; every actor in order_history is
-- `<role>:<name>`.
CREATE TABLE api_users (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    role        text NOT NULL CHECK (role IN ('crew', 'planner', 'admin')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
);

-- Bearer tokens: only the SHA-256 of the token is stored (tokens are 32 random bytes, so a
-- plain hash is enough; no salt or slow hash needed). The prefix is shown to operators.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES api_users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Open311 -----------------------------------------------------------------------------

-- api_key of the Open311 clients allowed to POST requests (Mark-a-Spot, FixMyStreet, …).
CREATE TABLE open311_keys (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- A service request as Open311 received it. The problem itself is a row in `defects`
-- (source 'citizen'), which the order life cycle closes and which mails the reporter; this
-- table keeps what only Open311 has: the token, address fields, media URL, attributes and
-- the reporter's contact details (personal data: admins only). A request that matches no
-- asset (an address without coordinates, nothing nearby) has no defect and stays open
-- until a planner handles it.
CREATE TABLE open311_requests (
    id              bigserial PRIMARY KEY,
    token           text NOT NULL UNIQUE,
    key_id          bigint REFERENCES open311_keys (id),
    service_code    text NOT NULL,
    defect_id       bigint REFERENCES defects (id),
    requested_at    timestamptz NOT NULL,
    description     text CHECK (length(description) <= 4000),
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    address_string  text,
    address_id      text,
    media_url       text,
    attributes      jsonb NOT NULL DEFAULT '{}'::jsonb,
    email           text,
    first_name      text,
    last_name       text,
    phone           text,
    device_id       text,
    account_id      text,
    lang            text NOT NULL DEFAULT 'de' CHECK (lang IN ('de', 'en')),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    status_notes    text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX open311_requests_time_idx ON open311_requests (requested_at DESC);
CREATE INDEX open311_requests_defect_idx ON open311_requests (defect_id);

-- Photos of finished orders ---------------------------------------------------------------

-- The file lives under the API's media directory with a generated name; never a path a
-- client chose.
CREATE TABLE order_photos (
    id           bigserial PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES work_orders (id),
    file_name    text NOT NULL UNIQUE CHECK (file_name ~ '^[0-9]+/[0-9a-f]{32}\.(jpg|png|webp)$'),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   integer NOT NULL CHECK (size_bytes > 0),
    sha256       bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_photos_order_idx ON order_photos (order_id);

-- Rule settings per asset -----------------------------------------------------------------

-- Overrides set through the API, in the vocabulary of the rules file's `overrides:` section
-- (asset id → section → parameters); validated by the API against rules/ruleset.py.
CREATE TABLE rule_overrides (
    asset_id    text NOT NULL,
    section     text NOT NULL CHECK (section IN ('watering', 'bins', 'sensor_health', 'vehicles')),
    params      jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    PRIMARY KEY (asset_id, section)
);
