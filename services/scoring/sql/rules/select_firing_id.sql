SELECT firing_id, holdout, results FROM rule_firings
WHERE tenant_id = $1 AND rule_id = $2 AND customer_id = $3 AND episode = $4
