-- Leases up to $3 due work rows (one connection: no one claims alongside).
UPDATE rules_queue
SET leased_until = $2
WHERE rowid IN (
    SELECT rowid FROM rules_queue
    WHERE leased_until IS NULL OR leased_until < $1
    ORDER BY created_at
    LIMIT $3
)
RETURNING tenant_id, id, customer_id, event, created_at
