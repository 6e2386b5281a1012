-- GDPR erasures (see the Postgres migration); ids are UUID text, times
-- microseconds since the epoch.
CREATE TABLE erasures (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    customer_id  TEXT,
    requested_at INTEGER NOT NULL,
    completed_at INTEGER,
    parts        TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX erasures_in_progress ON erasures (tenant_id, customer_id)
    WHERE customer_id IS NOT NULL;
