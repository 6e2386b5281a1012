-- Every tenant with scores, found by skipping through the primary key one
-- tenant at a time rather than reading every row.
WITH RECURSIVE t AS (
    (SELECT tenant_id FROM customer_scores ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT s.tenant_id FROM customer_scores s
            WHERE s.tenant_id > t.tenant_id ORDER BY s.tenant_id LIMIT 1)
    FROM t
    WHERE t.tenant_id IS NOT NULL
)
INSERT INTO refresh_leases (tenant_id, due_at)
SELECT tenant_id, $1 FROM t WHERE tenant_id IS NOT NULL
ON CONFLICT (tenant_id) DO NOTHING
