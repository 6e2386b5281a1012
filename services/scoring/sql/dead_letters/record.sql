-- A change that cannot be applied: kept once per change id, the reason and
-- last sighting brought up to date when it fails again.
INSERT INTO dead_letters (tenant_id, change_id, customer_id, change, reason,
                          first_seen_at, last_seen_at, attempts)
VALUES ($1, $2, $3, $4, $5, $6, $6, 1)
ON CONFLICT (tenant_id, change_id) DO UPDATE SET
    customer_id  = excluded.customer_id,
    change       = excluded.change,
    reason       = excluded.reason,
    last_seen_at = excluded.last_seen_at,
    attempts     = dead_letters.attempts + 1
