UPDATE rules SET enabled = $3,
    updated_at = CASE WHEN enabled = $3 THEN updated_at ELSE $4 END
WHERE tenant_id = $1 AND rule_id = $2
