UPDATE rules
SET published_version = $3,
    updated_at = CASE WHEN published_version = $3 THEN updated_at ELSE $4 END
WHERE tenant_id = $1 AND rule_id = $2
