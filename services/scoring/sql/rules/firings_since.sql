SELECT customer_id, fired_at, holdout, results FROM rule_firings
WHERE tenant_id = $1 AND rule_id = $2 AND fired_at >= $3
ORDER BY fired_at
