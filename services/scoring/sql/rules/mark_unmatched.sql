UPDATE rule_states SET matched = false, updated_at = $4
WHERE tenant_id = $1 AND rule_id = $2 AND customer_id = $3 AND matched
