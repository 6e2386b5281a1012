INSERT INTO identities (tenant_id, customer_id, source, external_id)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
