-- Customers of every tenant. Keys start with tenant_id so the tables can later
-- be distributed by tenant and customer.
CREATE TABLE customers (
    tenant_id    uuid        NOT NULL,
    id           uuid        NOT NULL,
    display_name text        NOT NULL DEFAULT '',
    kind         integer     NOT NULL DEFAULT 0,
    email        text        NOT NULL DEFAULT '',
    phone        text        NOT NULL DEFAULT '',
    parent_id    uuid,
    stub         boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    -- Deleting a parent leaves its children without one; only parent_id is
    -- cleared, never the tenant.
    FOREIGN KEY (tenant_id, parent_id) REFERENCES customers (tenant_id, id)
        ON DELETE SET NULL (parent_id)
);
CREATE INDEX customers_children ON customers (tenant_id, parent_id, id) WHERE parent_id IS NOT NULL;

-- External identities; one (source, external_id) belongs to one customer.
CREATE TABLE identities (
    tenant_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    source      text        NOT NULL,
    external_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, source, external_id),
    UNIQUE (tenant_id, source, external_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

-- Free-form attributes as key/value rows, so filters are index lookups.
CREATE TABLE attributes (
    tenant_id   uuid NOT NULL,
    customer_id uuid NOT NULL,
    key         text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, key),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX attributes_by_value ON attributes (tenant_id, key, value, customer_id);

-- Consent per channel (rapport.v1.Channel values).
CREATE TABLE consents (
    tenant_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    channel     integer     NOT NULL,
    granted     boolean     NOT NULL,
    granted_at  timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, customer_id, channel),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
