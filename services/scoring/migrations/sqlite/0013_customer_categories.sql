-- Purchases and net spend per customer and product category; see the
-- Postgres migration of the same number.
CREATE TABLE customer_categories (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    purchases   INTEGER NOT NULL,
    net_minor   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, category)
);
