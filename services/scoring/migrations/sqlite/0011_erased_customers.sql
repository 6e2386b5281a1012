-- Customers erased (GDPR); see the Postgres migration of the same number.
-- Times are microseconds since the epoch.
CREATE TABLE erased_customers (
    tenant_id     TEXT    NOT NULL,
    customer_hash TEXT    NOT NULL,
    erasure_id    TEXT    NOT NULL,
    erased_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_hash)
);

CREATE INDEX erased_customers_at ON erased_customers (tenant_id, erased_at);
