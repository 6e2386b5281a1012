DELETE FROM attributes WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
