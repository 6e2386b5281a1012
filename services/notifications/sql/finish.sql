-- Records the outcome of an attempt and releases the claim. The lease id
-- check makes a worker whose claim lapsed (and was taken over) a no-op.
UPDATE notifications
SET status = $5,
    attempt_count = $6,
    next_attempt_at = $7,
    delivered_at = $8,
    last_error = COALESCE($9, last_error),
    provider_message_id = $10,
    suppressed_reason = $11,
    locked_until = NULL,
    lease_id = NULL
WHERE tenant_id = $1 AND customer_id = $2 AND id = $3 AND lease_id = $4
