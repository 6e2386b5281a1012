-- Claims due rows for one worker. SQLite runs one writer at a time, so the
-- single statement is the whole claim; the lease keeps the rows out of other
-- claims while delivery runs.
UPDATE notifications
SET locked_until = $2, lease_id = $4
WHERE rowid IN (
    SELECT rowid
    FROM notifications
    WHERE status IN ('pending', 'scheduled')
      AND next_attempt_at <= $1
      AND (locked_until IS NULL OR locked_until <= $1)
    ORDER BY next_attempt_at
    LIMIT $3
)
RETURNING tenant_id, customer_id, id, channel, dedupe_key, destination, subject, body,
          created_at, attempt_count
