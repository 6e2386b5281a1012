-- Email and SMS, templates, consent and contact policy, signed webhooks.
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt.
CREATE TABLE notifications_v2 (
    tenant_id           TEXT    NOT NULL,
    customer_id         TEXT    NOT NULL,
    id                  TEXT    NOT NULL,
    dedupe_key          TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    destination         TEXT    NOT NULL,
    subject             TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    status              TEXT    NOT NULL
        CHECK (status IN ('pending', 'scheduled', 'delivered', 'dead_letter', 'suppressed')),
    attempt_count       INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    next_attempt_at     INTEGER,
    locked_until        INTEGER,
    lease_id            TEXT,
    delivered_at        INTEGER,
    last_error          TEXT    NOT NULL DEFAULT '',
    provider_message_id TEXT    NOT NULL DEFAULT '',
    suppressed_reason   TEXT    NOT NULL DEFAULT '',
    purpose             TEXT    NOT NULL DEFAULT 'transactional',
    template            TEXT    NOT NULL DEFAULT '',
    locale              TEXT    NOT NULL DEFAULT '',
    template_version    INTEGER NOT NULL DEFAULT 0,
    origin              TEXT    NOT NULL DEFAULT '',
    send_at             INTEGER,
    PRIMARY KEY (tenant_id, customer_id, id),
    UNIQUE (tenant_id, dedupe_key)
);
INSERT INTO notifications_v2
    (tenant_id, customer_id, id, dedupe_key, channel, destination, subject, body, status,
     attempt_count, created_at, next_attempt_at, locked_until, lease_id, delivered_at,
     last_error, provider_message_id)
SELECT tenant_id, customer_id, id, dedupe_key, channel, destination, subject, body, status,
       attempt_count, created_at, next_attempt_at, locked_until, lease_id, delivered_at,
       last_error, provider_message_id
FROM notifications;
CREATE TABLE attempts_v2 AS SELECT * FROM attempts;
DROP TABLE attempts;
DROP TABLE notifications;
ALTER TABLE notifications_v2 RENAME TO notifications;
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
INSERT INTO attempts SELECT * FROM attempts_v2;
DROP TABLE attempts_v2;

CREATE INDEX notifications_by_id ON notifications (tenant_id, id);
CREATE INDEX notifications_newest ON notifications (tenant_id, created_at, id);
CREATE INDEX notifications_customer_newest
    ON notifications (tenant_id, customer_id, created_at, id);
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE status IN ('pending', 'scheduled');
CREATE INDEX notifications_marketing
    ON notifications (tenant_id, customer_id, created_at)
    WHERE purpose = 'marketing' AND status <> 'suppressed';

CREATE TABLE templates (
    tenant_id      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    locale         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    subject        TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    required_data  TEXT    NOT NULL,
    default_locale INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, channel, locale, version)
);

CREATE TABLE contact_policies (
    tenant_id        TEXT    PRIMARY KEY,
    max_messages     INTEGER NOT NULL,
    window_hours     INTEGER NOT NULL,
    cool_down_hours  INTEGER NOT NULL,
    quiet_start_hour INTEGER NOT NULL,
    quiet_end_hour   INTEGER NOT NULL
);

CREATE TABLE contact_state (
    tenant_id       TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    last_contact_at INTEGER,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE webhook_secrets (
    tenant_id  TEXT    PRIMARY KEY,
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
