-- Sealed signing secrets and the rotation's overlap; see the Postgres migration.
ALTER TABLE webhook_secrets ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_secrets ADD COLUMN previous_until INTEGER;

CREATE TABLE development_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
