INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at)
SELECT $1, c.change_id, c.customer_id, $4
FROM UNNEST($2::text[], $3::uuid[]) AS c (change_id, customer_id)
ON CONFLICT (tenant_id, change_id) DO NOTHING
RETURNING change_id
