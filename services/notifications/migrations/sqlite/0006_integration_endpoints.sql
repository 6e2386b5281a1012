-- Integration endpoints; see the Postgres migration.
CREATE TABLE integration_endpoints (
    tenant_id     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    url           TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    secret        TEXT    NOT NULL,
    secret_set_at INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

ALTER TABLE notifications ADD COLUMN integration_endpoint TEXT NOT NULL DEFAULT '';
