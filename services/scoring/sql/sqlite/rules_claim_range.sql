-- Leases one unfinished range of a split schedule pass: the oldest pass's
-- first free range.
UPDATE rules_pass_ranges
SET leased_until = $2
WHERE rowid IN (
    SELECT rowid FROM rules_pass_ranges
    WHERE NOT done AND (leased_until IS NULL OR leased_until < $1)
    ORDER BY due_at, range_no
    LIMIT 1
)
RETURNING tenant_id, due_at, range_no, first_id, last_id
