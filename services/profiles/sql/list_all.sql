SELECT id FROM customers
WHERE tenant_id = $1 AND id > $2
ORDER BY id
LIMIT $3
