-- A repeated dedupe key inserts nothing; the caller then reads the stored row.
INSERT INTO notifications
    (tenant_id, customer_id, id, dedupe_key, channel, destination, subject, body,
     status, attempt_count, created_at, next_attempt_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)
ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
