-- One row is both the notification and its place in the delivery queue, so
-- accepting a notification is one insert and it can never be queued twice.
CREATE TABLE notifications (
    tenant_id           uuid        NOT NULL,
    customer_id         uuid        NOT NULL,
    id                  uuid        NOT NULL,
    dedupe_key          text        NOT NULL,
    channel             text        NOT NULL,
    destination         text        NOT NULL,
    subject             text        NOT NULL,
    body                text        NOT NULL,
    status              text        NOT NULL
        CHECK (status IN ('pending', 'delivered', 'dead_letter')),
    attempt_count       integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL,
    -- NULL once no attempt is due any more (delivered or dead-lettered).
    next_attempt_at     timestamptz,
    -- A worker's claim. Other workers skip the row until then; a worker that
    -- dies lets its claim lapse and another replica retries.
    locked_until        timestamptz,
    -- Identifies the claim, so a worker whose claim lapsed cannot record a
    -- result over the replica that took over.
    lease_id            uuid,
    delivered_at        timestamptz,
    last_error          text        NOT NULL DEFAULT '',
    provider_message_id text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, customer_id, id),
    UNIQUE (tenant_id, dedupe_key)
);

CREATE INDEX notifications_by_id ON notifications (tenant_id, id);
CREATE INDEX notifications_newest ON notifications (tenant_id, created_at, id);
CREATE INDEX notifications_customer_newest
    ON notifications (tenant_id, customer_id, created_at, id);
-- Only the pending rows, so the claim query stays cheap however many
-- delivered notifications pile up.
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';

CREATE TABLE attempts (
    tenant_id       uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    notification_id uuid        NOT NULL,
    number          integer     NOT NULL,
    started_at      timestamptz NOT NULL,
    succeeded       boolean     NOT NULL,
    -- 0 when no HTTP answer came back.
    http_status     integer     NOT NULL,
    error           text        NOT NULL,
    duration_ms     integer     NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, notification_id, number),
    FOREIGN KEY (tenant_id, customer_id, notification_id)
        REFERENCES notifications (tenant_id, customer_id, id) ON DELETE CASCADE
);
