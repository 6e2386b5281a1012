INSERT INTO identities (tenant_id, customer_id, source, external_id)
SELECT $1, *
FROM UNNEST($2::uuid[], $3::text[], $4::text[])
ON CONFLICT DO NOTHING
RETURNING source, external_id
