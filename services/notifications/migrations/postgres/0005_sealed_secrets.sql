-- Webhook signing secrets are sealed at rest (the service rewrites any
-- plaintext value sealed when it reads it, and every row when its worker
-- starts). After a rotation the secret it replaced keeps signing, beside the
-- new one, until previous_until.
ALTER TABLE webhook_secrets
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_until  timestamptz;

-- The key secrets are sealed with when notify.secret_key is unset: generated
-- once, kept beside them, so it protects nothing (a warning says so).
CREATE TABLE development_key (
    id         integer     PRIMARY KEY CHECK (id = 1),
    key        text        NOT NULL,
    created_at timestamptz NOT NULL
);
