-- Leases one unfinished range of a split schedule pass: the oldest pass's
-- first free range, skipping rows another replica is claiming.
UPDATE rules_pass_ranges r
SET leased_until = $2
FROM (
    SELECT tenant_id, due_at, range_no FROM rules_pass_ranges
    WHERE NOT done AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY due_at, range_no
    LIMIT 1
    FOR UPDATE SKIP LOCKED
) c
WHERE r.tenant_id = c.tenant_id AND r.due_at = c.due_at AND r.range_no = c.range_no
RETURNING r.tenant_id, r.due_at, r.range_no, r.first_id, r.last_id
