-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the
-- opportunity event's.
INSERT INTO opportunity_events (
    tenant_id, customer_id, occurred_at, id, source, external_id, opportunity_ref, kind, stage,
    amount_minor, expected_close, ingested_at
) VALUES ($1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $2)
