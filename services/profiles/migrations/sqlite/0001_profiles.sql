-- Customers of every tenant; ids are UUID text, times microseconds since the
-- epoch. There is no foreign key on parent_id: SQLite's SET NULL would clear
-- tenant_id too, so deleting a parent clears its children's parent_id itself.
CREATE TABLE customers (
    tenant_id    TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    display_name TEXT    NOT NULL DEFAULT '',
    kind         INTEGER NOT NULL DEFAULT 0,
    email        TEXT    NOT NULL DEFAULT '',
    phone        TEXT    NOT NULL DEFAULT '',
    parent_id    TEXT,
    stub         INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX customers_children ON customers (tenant_id, parent_id, id) WHERE parent_id IS NOT NULL;

CREATE TABLE identities (
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, source, external_id),
    UNIQUE (tenant_id, source, external_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE attributes (
    tenant_id   TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, key),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX attributes_by_value ON attributes (tenant_id, key, value, customer_id);

CREATE TABLE consents (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    channel     INTEGER NOT NULL,
    granted     INTEGER NOT NULL,
    granted_at  INTEGER,
    revoked_at  INTEGER,
    PRIMARY KEY (tenant_id, customer_id, channel),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
