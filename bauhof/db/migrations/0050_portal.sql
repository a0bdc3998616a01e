-- "Mach' Herrenberg grün!": the green-area cadastre and the sponsorship life cycle.

-- The cadastre: what the portal shows of an area, and whether it takes sponsors.
ALTER TABLE green_areas
    ADD COLUMN area_m2        double precision CHECK (area_m2 > 0),
    ADD COLUMN planting_year  smallint CHECK (planting_year BETWEEN 1800 AND 2200),
    -- [{"species": "Tilia cordata", "planting_year": 1998}, …]
    ADD COLUMN trees          jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN notes          text,
    ADD COLUMN photo_url      text,
    -- Several sponsors at once (a long hedge), and whether a new sponsor first plants.
    ADD COLUMN allow_several  boolean NOT NULL DEFAULT false,
    ADD COLUMN needs_planting boolean NOT NULL DEFAULT false,
    -- The last area inspection (Flächenkontrolle): {"at", "result", "note", "by"}.
    ADD COLUMN inspection     jsonb,
    ADD COLUMN retired_at     timestamptz,
    ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();

-- Every change of an area, who made it and what changed; rows are never changed.
CREATE TABLE green_area_history (
    id       bigserial PRIMARY KEY,
    area_id  text NOT NULL REFERENCES green_areas (id),
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    event    text NOT NULL CHECK (event IN ('created', 'changed', 'retired', 'imported',
                                            'inspected', 'sponsored', 'freed')),
    changes  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX green_area_history_area_idx ON green_area_history (area_id, id);

-- Sponsors: their language, the name they agreed to show, and whether they want mail.
ALTER TABLE sponsors
    ADD COLUMN lang          text NOT NULL DEFAULT 'de' CHECK (lang IN ('de', 'en')),
    ADD COLUMN display_name  text,
    ADD COLUMN mail_stopped  boolean NOT NULL DEFAULT false,
    ADD COLUMN anonymised_at timestamptz;

-- One row per inquiry, from the citizen's first message to the end of the sponsorship.
-- unconfirmed → requested (e-mail confirmed) → active (approved) → ended;
-- unconfirmed → expired (72 h); requested → declined.
CREATE TABLE sponsorships (
    id              bigserial PRIMARY KEY,
    area_id         text NOT NULL REFERENCES green_areas (id),
    status          text NOT NULL DEFAULT 'unconfirmed' CHECK (status IN (
                        'unconfirmed', 'requested', 'active', 'declined', 'ended', 'expired')),
    -- Personal data (administrators only; anonymised after the end, see docs/portal.md).
    name            text,
    email           text,
    phone           text,
    message         text,
    lang            text NOT NULL DEFAULT 'de' CHECK (lang IN ('de', 'en')),
    display_name    text,
    -- The sponsors row the rules engine asks for water (made when approved).
    sponsor_id      text REFERENCES sponsors (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    confirm_by      timestamptz NOT NULL,
    confirmed_at    timestamptz,
    decided_at      timestamptz,
    decided_by      text,
    reason          text,
    started_at      timestamptz,
    ended_at        timestamptz,
    ended_by        text,
    planting_order_id bigint REFERENCES work_orders (id),
    anonymised_at   timestamptz,
    CHECK ((status = 'active') = (started_at IS NOT NULL AND ended_at IS NULL)),
    CHECK (status <> 'ended' OR ended_at IS NOT NULL)
);
CREATE INDEX sponsorships_area_idx ON sponsorships (area_id, status);
CREATE INDEX sponsorships_email_idx ON sponsorships (lower(email));
CREATE INDEX sponsorships_status_idx ON sponsorships (status, created_at);

-- What a sponsor did from a mail link (watered, cannot this time): counted in the overview.
CREATE TABLE sponsorship_events (
    id             bigserial PRIMARY KEY,
    sponsorship_id bigint NOT NULL REFERENCES sponsorships (id),
    at             timestamptz NOT NULL DEFAULT now(),
    event          text NOT NULL,
    order_id       bigint REFERENCES work_orders (id),
    note           text
);
CREATE INDEX sponsorship_events_idx ON sponsorship_events (sponsorship_id, id);

-- Planting after an award and the spring and autumn inspections are crew work orders.
ALTER TABLE work_orders DROP CONSTRAINT work_orders_kind_check;
ALTER TABLE work_orders ADD CONSTRAINT work_orders_kind_check CHECK (kind IN (
    'watering', 'empty_bin', 'collection_route', 'sensor_maintenance', 'bin_maintenance',
    'vehicle', 'citizen_defect', 'planting', 'inspection'));
