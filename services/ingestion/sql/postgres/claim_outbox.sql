-- Leases the oldest rows nobody holds. Rows another relay is claiming right
-- now are skipped, not waited for; the lease commits with this statement.
WITH next AS (
    SELECT id FROM outbox
    WHERE leased_until IS NULL OR leased_until < clock_timestamp()
    ORDER BY id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
SET leased_until = clock_timestamp() + make_interval(secs => $2)
FROM next
WHERE o.id = next.id
RETURNING o.id, o.tenant_id, o.change
