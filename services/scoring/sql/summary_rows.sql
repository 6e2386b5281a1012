SELECT first_purchase_at, last_purchase_at, purchase_total_minor - refund_total_minor AS net
FROM customer_scores
WHERE tenant_id = $1
ORDER BY net
