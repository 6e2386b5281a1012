INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at)
VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, change_id) DO NOTHING
