-- Puts a claimed notification back until $5 without counting an attempt: a
-- dependency did not answer, so nothing was sent. The lease id check makes a
-- worker whose claim lapsed (and was taken over) a no-op.
UPDATE notifications
SET next_attempt_at = $5,
    last_error = $6,
    locked_until = NULL,
    lease_id = NULL
WHERE tenant_id = $1 AND customer_id = $2 AND id = $3 AND lease_id = $4
