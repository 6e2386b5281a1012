SELECT count(*),
       COALESCE(min(purchase_total_minor - refund_total_minor), 0),
       COALESCE(max(purchase_total_minor - refund_total_minor), 0)
FROM customer_scores
WHERE tenant_id = $1
