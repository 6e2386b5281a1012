-- Email and SMS, templates, consent and contact policy, signed webhooks.
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'scheduled', 'delivered', 'dead_letter', 'suppressed'));
ALTER TABLE notifications
    ADD COLUMN suppressed_reason text    NOT NULL DEFAULT '',
    ADD COLUMN purpose           text    NOT NULL DEFAULT 'transactional',
    ADD COLUMN template          text    NOT NULL DEFAULT '',
    ADD COLUMN locale            text    NOT NULL DEFAULT '',
    ADD COLUMN template_version  integer NOT NULL DEFAULT 0,
    ADD COLUMN origin            text    NOT NULL DEFAULT '',
    ADD COLUMN send_at           timestamptz;

-- Scheduled rows are claimed once due, like pending ones.
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (next_attempt_at)
    WHERE status IN ('pending', 'scheduled');
-- Counting a customer's recent marketing for the frequency cap.
CREATE INDEX notifications_marketing
    ON notifications (tenant_id, customer_id, created_at)
    WHERE purpose = 'marketing' AND status <> 'suppressed';

-- Every version of every template; the highest version is the current one.
CREATE TABLE templates (
    tenant_id      uuid        NOT NULL,
    name           text        NOT NULL,
    channel        text        NOT NULL,
    locale         text        NOT NULL,
    version        integer     NOT NULL,
    subject        text        NOT NULL,
    body           text        NOT NULL,
    -- JSON array of the data.* names a send must provide.
    required_data  text        NOT NULL,
    default_locale boolean     NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name, channel, locale, version)
);

CREATE TABLE contact_policies (
    tenant_id        uuid    PRIMARY KEY,
    max_messages     integer NOT NULL,
    window_hours     integer NOT NULL,
    cool_down_hours  integer NOT NULL,
    quiet_start_hour integer NOT NULL,
    quiet_end_hour   integer NOT NULL
);

-- One row per contacted customer, locked (FOR UPDATE) while a marketing
-- message is checked against the cap, so racing replicas serialise.
CREATE TABLE contact_state (
    tenant_id       uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    last_contact_at timestamptz,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE webhook_secrets (
    tenant_id  uuid        PRIMARY KEY,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL
);
