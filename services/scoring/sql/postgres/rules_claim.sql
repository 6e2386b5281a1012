-- Leases up to $3 due work rows; SKIP LOCKED lets replicas claim side by side.
UPDATE rules_queue q
SET leased_until = $2
FROM (
    SELECT tenant_id, id FROM rules_queue
    WHERE leased_until IS NULL OR leased_until < $1
    ORDER BY created_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
) c
WHERE q.tenant_id = c.tenant_id AND q.id = c.id
RETURNING q.tenant_id, q.id, q.customer_id, q.event, q.created_at
