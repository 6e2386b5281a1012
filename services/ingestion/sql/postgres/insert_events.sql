-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the
-- event's.
INSERT INTO events (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind, properties, ingested_at
)
SELECT $1, e.customer_id, e.occurred_at, e.id, e.source, e.external_id, e.kind,
       e.properties::jsonb, $2
FROM UNNEST(
    $3::uuid[], $4::timestamptz[], $5::uuid[], $6::text[], $7::text[], $8::text[], $9::text[]
) AS e (customer_id, occurred_at, id, source, external_id, kind, properties)
