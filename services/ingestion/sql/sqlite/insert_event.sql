INSERT INTO events (
    tenant_id, customer_id, occurred_at, id, source, external_id, kind, properties, ingested_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
