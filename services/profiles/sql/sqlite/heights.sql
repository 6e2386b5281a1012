-- How many levels each customer asked for heads (itself included), counted
-- down to at most $3.
WITH RECURSIVE down (root, id, level) AS (
    SELECT id, id, 1 FROM customers
    WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))
  UNION ALL
    SELECT down.root, c.id, down.level + 1
    FROM customers c
    JOIN down ON c.parent_id = down.id
    WHERE c.tenant_id = $1 AND down.level < $3
)
SELECT root, max(level) FROM down GROUP BY root
