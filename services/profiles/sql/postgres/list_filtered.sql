-- Customers having every (key, value) of the filter object $4: one index
-- lookup per pair on attributes_by_value, then a count per customer.
SELECT c.id
FROM customers c
JOIN (
    SELECT a.customer_id
    FROM attributes a
    JOIN jsonb_each_text($4) AS f (key, value) ON a.key = f.key AND a.value = f.value
    WHERE a.tenant_id = $1 AND a.customer_id > $2
    GROUP BY a.customer_id
    HAVING count(*) = $5
) m ON m.customer_id = c.id
WHERE c.tenant_id = $1 AND ($3::uuid IS NULL OR c.parent_id = $3)
ORDER BY c.id
LIMIT $6
