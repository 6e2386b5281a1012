SELECT version, definition, author, created_at, published_at
FROM rule_versions
WHERE tenant_id = $1 AND rule_id = $2 AND version < $3
ORDER BY version DESC
LIMIT $4
