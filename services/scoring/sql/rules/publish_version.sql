UPDATE rule_versions
SET published_at = COALESCE(published_at, $4)
WHERE tenant_id = $1 AND rule_id = $2 AND version = $3
