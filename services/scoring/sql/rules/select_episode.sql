SELECT episode FROM rule_states
WHERE tenant_id = $1 AND rule_id = $2 AND customer_id = $3
