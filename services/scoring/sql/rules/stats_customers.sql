-- The first customers in id order with a firing of the rule since a time:
-- an index-only scan of rule_firings_rule_customer (tenant, rule, customer,
-- fired at) that stops at the limit.
SELECT DISTINCT customer_id FROM rule_firings
WHERE tenant_id = $1 AND rule_id = $2 AND fired_at >= $3
ORDER BY customer_id
LIMIT $4
