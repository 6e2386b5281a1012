INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at, change_day)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, change_id) DO NOTHING
