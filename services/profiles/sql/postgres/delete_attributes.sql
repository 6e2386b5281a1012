DELETE FROM attributes WHERE tenant_id = $1 AND customer_id = ANY($2)
