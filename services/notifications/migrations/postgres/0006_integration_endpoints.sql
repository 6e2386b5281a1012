-- The tenant's own systems that rules and SendNotification post events to.
-- A post to one is an integration, not a contact: no consent applies, so
-- only endpoints the tenant registered here can be posted to that way. Each
-- signs with its own secret, sealed at rest like the webhook secrets.
CREATE TABLE integration_endpoints (
    tenant_id     uuid        NOT NULL,
    name          text        NOT NULL,
    url           text        NOT NULL,
    description   text        NOT NULL DEFAULT '',
    secret        text        NOT NULL,
    secret_set_at timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- The endpoint a notification was posted to; empty for a message to a
-- customer. A constant default adds the column without rewriting the table.
ALTER TABLE notifications ADD COLUMN integration_endpoint text NOT NULL DEFAULT '';
