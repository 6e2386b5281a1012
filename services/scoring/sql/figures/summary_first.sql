-- The first page of the tenant's scores in ascending (net spend, customer)
-- order, read backwards along the net-spend index.
SELECT customer_id, first_purchase_at, last_purchase_at,
       purchase_total_minor - refund_total_minor AS net
FROM customer_scores
WHERE tenant_id = $1
ORDER BY (purchase_total_minor - refund_total_minor), customer_id
LIMIT $2
