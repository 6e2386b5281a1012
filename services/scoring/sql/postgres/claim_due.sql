UPDATE refresh_leases SET leased_until = $2
WHERE tenant_id = (
    SELECT tenant_id FROM refresh_leases
    WHERE due_at <= $1 AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY due_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING tenant_id
