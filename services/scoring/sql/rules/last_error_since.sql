SELECT message FROM rule_errors
WHERE tenant_id = $1 AND rule_id = $2 AND at >= $3
ORDER BY at DESC
LIMIT 1
