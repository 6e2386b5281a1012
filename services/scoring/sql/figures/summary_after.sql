-- The next page of the tenant's scores in ascending (net spend, customer)
-- order, after the last row read, ($2, $3).
SELECT customer_id, first_purchase_at, last_purchase_at,
       purchase_total_minor - refund_total_minor AS net
FROM customer_scores
WHERE tenant_id = $1
  AND ((purchase_total_minor - refund_total_minor), customer_id) > ($2, $3)
ORDER BY (purchase_total_minor - refund_total_minor), customer_id
LIMIT $4
