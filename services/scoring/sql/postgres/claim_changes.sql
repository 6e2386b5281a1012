INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at, change_day)
SELECT $1, c.change_id, c.customer_id, $4, c.change_day
FROM UNNEST($2::text[], $3::uuid[], $5::date[]) AS c (change_id, customer_id, change_day)
ON CONFLICT (tenant_id, change_id, change_day) DO NOTHING
RETURNING change_id
