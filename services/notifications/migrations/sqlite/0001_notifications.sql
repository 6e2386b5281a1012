-- One row is both the notification and its place in the delivery queue.
-- Ids are TEXT, times INTEGER microseconds since the epoch.
CREATE TABLE notifications (
    tenant_id           TEXT    NOT NULL,
    customer_id         TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    dedupe_key          TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    destination         TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'delivered', 'dead_letter')),
    attempt_count       INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    next_attempt_at     INTEGER,
    -- A worker's claim; see the Postgres migration.
    locked_until        INTEGER,
    lease_id            TEXT,
    delivered_at        INTEGER,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, customer_id, id),
    UNIQUE (tenant_id, dedupe_key)
);

CREATE INDEX notifications_by_id ON notifications (tenant_id, id);
CREATE INDEX notifications_newest ON notifications (tenant_id, created_at, id);
CREATE INDEX notifications_customer_newest
    ON notifications (tenant_id, customer_id, created_at, id);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';

CREATE TABLE attempts (
    tenant_id       TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    notification_id TEXT    NOT NULL,
    number          INTEGER NOT NULL,
    started_at      INTEGER NOT NULL,
    succeeded       INTEGER NOT NULL,
    http_status     INTEGER NOT NULL,
    error           TEXT    NOT NULL,
    duration_ms     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, notification_id, number),
    FOREIGN KEY (tenant_id, customer_id, notification_id)
        REFERENCES notifications (tenant_id, customer_id, id) ON DELETE CASCADE
);
