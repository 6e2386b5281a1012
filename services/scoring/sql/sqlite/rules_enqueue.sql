-- One work row for the rules worker, only for tenants with a rule to evaluate.
INSERT INTO rules_queue (tenant_id, id, customer_id, event, created_at, leased_until)
SELECT $1, $2, $3, $4, $5, NULL
WHERE EXISTS (
    SELECT 1 FROM rules r
    WHERE r.tenant_id = $1 AND r.enabled AND r.published_version > 0
)
ON CONFLICT (tenant_id, id) DO NOTHING
