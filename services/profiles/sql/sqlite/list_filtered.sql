-- Customers having every (key, value) of the filter object $4.
SELECT c.id
FROM customers c
JOIN (
    SELECT a.customer_id
    FROM json_each($4) AS f
    JOIN attributes a ON a.tenant_id = $1 AND a.key = f.key AND a.value = f.value
    WHERE a.customer_id > $2
    GROUP BY a.customer_id
    HAVING count(*) = $5
) m ON m.customer_id = c.id
WHERE c.tenant_id = $1 AND ($3 IS NULL OR c.parent_id = $3)
ORDER BY c.id
LIMIT $6
