-- The firings since a time of the customers up to and including the last
-- one sampled, in no particular order (they are tallied per customer).
SELECT customer_id, fired_at, holdout, results FROM rule_firings
WHERE tenant_id = $1 AND rule_id = $2 AND customer_id <= $4 AND fired_at >= $3
