-- Leases one tenant whose schedule pass is due.
UPDATE rules_schedule
SET leased_until = $2
WHERE tenant_id IN (
    SELECT tenant_id FROM rules_schedule
    WHERE due_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY due_at
    LIMIT 1
)
RETURNING tenant_id, due_at
