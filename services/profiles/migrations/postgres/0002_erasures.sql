-- GDPR erasures. While one is in progress customer_id names the customer, so
-- a retry after a crash or a peer being down resumes it; once complete it is
-- cleared and the row holds no personal data: the erasure id, when it was
-- requested and completed, and the rows each service removed or anonymised.
CREATE TABLE erasures (
    tenant_id    uuid        NOT NULL,
    id           uuid        NOT NULL,
    customer_id  uuid,
    requested_at timestamptz NOT NULL,
    completed_at timestamptz,
    -- JSON object: part ("ingestion", "scoring", "notifications",
    -- "profiles") -> {what: rows}; a part is done once it is here.
    parts        text        NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id)
);
-- One erasure in progress per customer.
CREATE UNIQUE INDEX erasures_in_progress ON erasures (tenant_id, customer_id)
    WHERE customer_id IS NOT NULL;
