-- Leases one tenant whose schedule pass is due.
UPDATE rules_schedule s
SET leased_until = $2
FROM (
    SELECT tenant_id FROM rules_schedule
    WHERE due_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY due_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
) c
WHERE s.tenant_id = c.tenant_id
RETURNING s.tenant_id, s.due_at
