-- Leases the oldest rows nobody holds ($1 now, $2 lease end, microseconds).
UPDATE outbox SET leased_until = $2
WHERE id IN (
    SELECT id FROM outbox
    WHERE leased_until IS NULL OR leased_until < $1
    ORDER BY id
    LIMIT $3
)
RETURNING id, tenant_id, change
