-- Work rows for the rules worker, in the transaction of the change; only for
-- tenants with a rule to evaluate.
INSERT INTO rules_queue (tenant_id, id, customer_id, event, created_at, leased_until)
SELECT $1, u.id, u.customer_id, u.event, $5, NULL
FROM UNNEST($2::text[], $3::uuid[], $4::text[]) AS u(id, customer_id, event)
WHERE EXISTS (
    SELECT 1 FROM rules r
    WHERE r.tenant_id = $1 AND r.enabled AND r.published_version > 0
)
ON CONFLICT (tenant_id, id) DO NOTHING
