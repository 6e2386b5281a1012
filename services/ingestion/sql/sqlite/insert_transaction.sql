-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the
-- transaction's.
INSERT INTO transactions (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind,
    amount_minor, currency_code, margin_minor, cost_minor, category, ingested_at
) VALUES ($1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $2)
