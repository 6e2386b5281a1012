SELECT count(*),
       COALESCE(min(purchase_total_minor - refund_total_minor), 0)::bigint,
       COALESCE(max(purchase_total_minor - refund_total_minor), 0)::bigint
FROM customer_scores
WHERE tenant_id = $1
