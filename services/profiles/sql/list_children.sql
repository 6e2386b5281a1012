SELECT id FROM customers
WHERE tenant_id = $1 AND parent_id = $3 AND id > $2
ORDER BY id
LIMIT $4
