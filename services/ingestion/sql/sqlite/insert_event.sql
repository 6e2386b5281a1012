-- $1 tenant, $2 ingested_at, $3..$7 the columns every row has, then the event's.
INSERT INTO events (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind, properties, ingested_at
) VALUES ($1, $3, $4, $5, $6, $7, $8, $9, $2)
