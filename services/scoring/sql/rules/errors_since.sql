SELECT COUNT(*) FROM rule_errors
WHERE tenant_id = $1 AND rule_id = $2 AND at >= $3
