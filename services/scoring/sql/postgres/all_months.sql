SELECT customer_id, month, net_minor, margin_minor, purchases
FROM customer_monthly
WHERE tenant_id = $1 AND customer_id = ANY($2)
