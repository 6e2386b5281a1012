-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the
-- opportunity event's.
INSERT INTO opportunity_events (
    tenant_id, customer_id, occurred_at, id, source, external_id, opportunity_ref, kind, stage,
    amount_minor, expected_close, ingested_at
)
SELECT $1, e.customer_id, e.occurred_at, e.id, e.source, e.external_id, e.opportunity_ref,
       e.kind, e.stage, e.amount_minor, e.expected_close, $2
FROM UNNEST(
    $3::uuid[], $4::timestamptz[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[],
    $10::text[], $11::bigint[], $12::timestamptz[]
) AS e (customer_id, occurred_at, id, source, external_id, opportunity_ref, kind, stage,
        amount_minor, expected_close)
