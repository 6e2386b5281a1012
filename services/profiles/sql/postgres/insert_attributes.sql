INSERT INTO attributes (tenant_id, customer_id, key, value)
SELECT $1, *
FROM UNNEST($2::uuid[], $3::text[], $4::text[])
