SELECT id, display_name, kind, email, phone, parent_id, stub, created_at, updated_at
FROM customers
WHERE tenant_id = $1 AND id = ANY($2)
ORDER BY id
