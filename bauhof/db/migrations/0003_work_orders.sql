-- Work orders, defects, their append-only history, the rules engine's state and cursor,
-- and the outbox through which every change is published (MQTT, webhooks, e-mail).

-- Work orders -------------------------------------------------------------------------

CREATE TABLE work_orders (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN (
                        'watering', 'empty_bin', 'collection_route', 'sensor_maintenance',
                        'bin_maintenance', 'vehicle', 'citizen_defect')),
    subject_type    text NOT NULL CHECK (subject_type IN ('green_area', 'bin', 'device', 'vehicle')),
    subject_id      text NOT NULL,
    -- The rule that raised it (`watering.dry`, `bins.full`, `citizen.report`, …) and the
    -- parameters in force then; one open order per (rule, subject), see the index below.
    rule            text NOT NULL,
    params          jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- 1 is the most urgent.
    priority        smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN (
                        'open', 'assigned', 'in_progress', 'done', 'cancelled', 'resolved')),
    title           text NOT NULL,
    assignee        text,
    -- Event times (reading timestamps), except where a person acts (then the wall clock).
    opened_at       timestamptz NOT NULL,
    due_at          timestamptz,
    condition_since timestamptz,
    last_value      double precision,
    last_seen_at    timestamptz,
    -- The readings that triggered it and the latest ones: [{time, dev_eui, name, value}, …].
    evidence        jsonb NOT NULL DEFAULT '[]'::jsonb,
    reminders       integer NOT NULL DEFAULT 0,
    last_reminded_at timestamptz,
    resolved_at     timestamptz,
    resolved_by     text,
    latitude        double precision,
    longitude       double precision,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status IN ('done', 'cancelled', 'resolved')) = (resolved_at IS NOT NULL))
);
-- Two engine workers, a replay or a restart cannot open a second order for the same thing.
CREATE UNIQUE INDEX work_orders_one_open_idx ON work_orders (rule, subject_type, subject_id)
    WHERE status IN ('open', 'assigned', 'in_progress');
CREATE INDEX work_orders_status_idx ON work_orders (status, kind);
CREATE INDEX work_orders_subject_idx ON work_orders (subject_type, subject_id);

-- Defects: problems with the infrastructure itself; each belongs to a maintenance order.
-- Citizens' reports (Open311) are defects too, attached to the subject's open order.
CREATE TABLE defects (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL,
    source          text NOT NULL DEFAULT 'rule' CHECK (source IN ('rule', 'citizen', 'crew')),
    rule            text,
    subject_type    text NOT NULL CHECK (subject_type IN ('green_area', 'bin', 'device', 'vehicle')),
    subject_id      text NOT NULL,
    dev_eui         text,
    order_id        bigint REFERENCES work_orders (id),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'cancelled')),
    description     text,
    opened_at       timestamptz NOT NULL,
    resolved_at     timestamptz,
    evidence        jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- Citizen reports: who to tell when it is fixed, in which language, Open311 fields.
    reporter_email  text,
    reporter_lang   text NOT NULL DEFAULT 'de' CHECK (reporter_lang IN ('de', 'en')),
    service_code    text,
    latitude        double precision,
    longitude       double precision,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX defects_one_open_idx ON defects (rule, subject_type, subject_id)
    WHERE status = 'open' AND source = 'rule';
CREATE INDEX defects_order_idx ON defects (order_id);
CREATE INDEX defects_status_idx ON defects (status, kind);

-- History: every change with who or what made it; rows are never changed or removed.
CREATE TABLE order_history (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL REFERENCES work_orders (id),
    defect_id   bigint REFERENCES defects (id),
    at          timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    event       text NOT NULL,
    from_status text,
    to_status   text,
    note        text,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX order_history_order_idx ON order_history (order_id, id);

-- bauhof_append_only(): bauhof/db/functions/20_triggers.sql
CREATE TRIGGER order_history_append_only
    BEFORE UPDATE OR DELETE ON order_history
    FOR EACH ROW EXECUTE FUNCTION bauhof_append_only();
CREATE TRIGGER order_history_no_truncate
    BEFORE TRUNCATE ON order_history
    FOR EACH STATEMENT EXECUTE FUNCTION bauhof_append_only();

-- Rules engine ------------------------------------------------------------------------

-- Per (rule module, subject) state, written in the same transaction as the cursor.
CREATE TABLE rule_state (
    rule         text NOT NULL,
    subject_type text NOT NULL,
    subject_id   text NOT NULL,
    state        jsonb NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule, subject_type, subject_id)
);

-- "Every ingest transaction id below next_xid is processed" for one shard of the subjects;
-- clock is the event-time clock (the newest reading time seen).
CREATE TABLE rules_cursor (
    shard       integer NOT NULL CHECK (shard >= 0),
    shards      integer NOT NULL CHECK (shards > 0 AND shard < shards),
    next_xid    xid8 NOT NULL DEFAULT '1'::xid8,
    clock       timestamptz,
    live        boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shard, shards)
);

-- Telling people ----------------------------------------------------------------------

CREATE TABLE webhooks (
    id          bigserial PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://'),
    secret      text NOT NULL CHECK (length(secret) >= 16),
    -- Topic filters in MQTT syntax relative to bauhof/: `workorders/#`, `defects/+/opened`.
    topics      text[] NOT NULL DEFAULT ARRAY['#'],
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Written in the same transaction as the change; delivered after commit, retried with backoff.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    created_at      timestamptz NOT NULL DEFAULT now(),
    channel         text NOT NULL CHECK (channel IN ('mqtt', 'webhook', 'email')),
    topic           text NOT NULL,
    webhook_id      bigint REFERENCES webhooks (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    last_error      text,
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, id) WHERE status = 'pending';
