SELECT id FROM customers WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))
