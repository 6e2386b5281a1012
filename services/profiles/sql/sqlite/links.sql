-- The customers asked for and all their ancestors; UNION stops on repeats.
WITH RECURSIVE up (id, parent_id) AS (
    SELECT id, parent_id FROM customers
    WHERE tenant_id = $1 AND id IN (SELECT value FROM json_each($2))
  UNION
    SELECT c.id, c.parent_id
    FROM customers c
    JOIN up ON c.id = up.parent_id
    WHERE c.tenant_id = $1
)
SELECT id, parent_id FROM up
