INSERT INTO transactions (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind,
    amount_minor, currency_code, margin_minor, cost_minor, category, ingested_at
)
SELECT $1, t.customer_id, t.occurred_at, t.id, t.source, t.external_id, t.kind,
       t.amount_minor, $2, t.margin_minor, t.cost_minor, t.category, $3
FROM UNNEST(
    $4::uuid[], $5::timestamptz[], $6::uuid[], $7::text[], $8::text[], $9::text[],
    $10::bigint[], $11::bigint[], $12::bigint[], $13::text[]
) AS t (
    customer_id, occurred_at, id, source, external_id, kind,
    amount_minor, margin_minor, cost_minor, category
)
