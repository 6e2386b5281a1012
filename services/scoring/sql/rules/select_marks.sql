SELECT tier_override, tier_origin, tags FROM customer_marks
WHERE tenant_id = $1 AND customer_id = $2
