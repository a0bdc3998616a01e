-- Citizens' channel (issue 18): report photos, mail opt-out, "me too", public notes.

-- A citizen's photo, re-encoded without metadata (api/report_photos.py); the file lives under
-- the API's media directory with a generated name.
CREATE TABLE report_photos (
    id          bigserial PRIMARY KEY,
    file_name   text NOT NULL UNIQUE CHECK (file_name ~ '^[0-9a-f]{32}\.jpg$'),
    size_bytes  integer NOT NULL CHECK (size_bytes > 0),
    width       integer NOT NULL CHECK (width > 0),
    height      integer NOT NULL CHECK (height > 0),
    sha256      bytea NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now()
);

-- mail_token: the secret of the opt-out link in every mail (the status token is public in
-- the status page's address). me_too: citizens who reported the same thing again.
ALTER TABLE open311_requests
    ADD COLUMN photo_id        bigint REFERENCES report_photos (id),
    ADD COLUMN mail_token      text UNIQUE,
    ADD COLUMN mail_opt_out_at timestamptz,
    ADD COLUMN me_too          integer NOT NULL DEFAULT 0 CHECK (me_too >= 0);
CREATE INDEX open311_requests_place_idx ON open311_requests (latitude, longitude)
    WHERE latitude IS NOT NULL;

-- The report page's api_key. It is in the page's script and so public by design, as every
-- key in a web page is: revoke it (revoked_at) to close the page's channel; the public rate
-- limit bounds what one address can send. The hash is SHA-256 of 'o311_melden'.
INSERT INTO open311_keys (name, key_hash, prefix)
VALUES ('melden page', sha256('o311_melden'::bytea), 'o311_melde');
