-- The smallest and largest net spend of the tenant, each one entry of the
-- net-spend index; NULL without scores.
SELECT
    (SELECT purchase_total_minor - refund_total_minor FROM customer_scores
     WHERE tenant_id = $1
     ORDER BY (purchase_total_minor - refund_total_minor), customer_id LIMIT 1),
    (SELECT purchase_total_minor - refund_total_minor FROM customer_scores
     WHERE tenant_id = $1
     ORDER BY (purchase_total_minor - refund_total_minor) DESC, customer_id DESC LIMIT 1)
