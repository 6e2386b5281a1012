SELECT id FROM customers WHERE tenant_id = $1 AND id = ANY($2)
