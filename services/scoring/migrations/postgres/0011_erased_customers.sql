-- Customers erased (GDPR), as a SHA-256 of "<tenant>:<customer>" with the
-- erasure id that replaced them: work that read the customer before the
-- erasure and writes after it (a report run in flight) checks here after
-- writing and replaces them too. The hash names no one by itself.
CREATE TABLE erased_customers (
    tenant_id     uuid        NOT NULL,
    customer_hash text        NOT NULL,
    erasure_id    uuid        NOT NULL,
    erased_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_hash)
);

CREATE INDEX erased_customers_at ON erased_customers (tenant_id, erased_at);
