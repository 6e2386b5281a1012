-- The totals of a batch's customers ($2, a JSON array of ids); a customer
-- without a row has nothing stored yet.
SELECT customer_id, total_minor FROM customer_totals
WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
