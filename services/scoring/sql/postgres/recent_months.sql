SELECT customer_id, month, net_minor
FROM (
    SELECT customer_id, month, net_minor,
           row_number() OVER (PARTITION BY customer_id ORDER BY month DESC) AS recent
    FROM customer_monthly
    WHERE tenant_id = $1 AND customer_id = ANY($2)
) m
WHERE recent <= 12
