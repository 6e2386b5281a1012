-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the
-- transaction's; $13 is the batch's one currency.
INSERT INTO transactions (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind,
    amount_minor, currency_code, margin_minor, cost_minor, category, ingested_at
)
SELECT $1, t.customer_id, t.occurred_at, t.id, t.source, t.external_id, t.kind,
       t.amount_minor, $13, t.margin_minor, t.cost_minor, t.category, $2
FROM UNNEST(
    $3::uuid[], $4::timestamptz[], $5::uuid[], $6::text[], $7::text[], $8::text[],
    $9::bigint[], $10::bigint[], $11::bigint[], $12::text[]
) AS t (
    customer_id, occurred_at, id, source, external_id, kind,
    amount_minor, margin_minor, cost_minor, category
)
