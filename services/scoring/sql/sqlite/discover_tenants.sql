INSERT INTO refresh_leases (tenant_id, due_at)
SELECT DISTINCT tenant_id, $1 FROM customer_scores WHERE true
ON CONFLICT (tenant_id) DO NOTHING
