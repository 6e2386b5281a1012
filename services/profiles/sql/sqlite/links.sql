-- The customers asked for and their ancestors, up to $3 levels from each
-- (itself included); DISTINCT drops the ancestors two of them share.
WITH RECURSIVE up (id, parent_id, level) AS (
    SELECT id, parent_id, 1 FROM customers
    WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))
  UNION
    SELECT c.id, c.parent_id, up.level + 1
    FROM customers c
    JOIN up ON c.id = up.parent_id
    WHERE c.tenant_id = $1 AND up.level < $3
)
SELECT DISTINCT id, parent_id FROM up
