-- Claims due rows for one worker. SKIP LOCKED lets replicas claim at the same
-- time without waiting on each other; the lease (locked_until) keeps the rows
-- out of other claims after this statement commits, while delivery runs.
WITH due AS (
    SELECT tenant_id, customer_id, id
    FROM notifications
    WHERE status IN ('pending', 'scheduled')
      AND next_attempt_at <= $1
      AND (locked_until IS NULL OR locked_until <= $1)
    ORDER BY next_attempt_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
)
UPDATE notifications AS n
SET locked_until = $2, lease_id = $4
FROM due
WHERE n.tenant_id = due.tenant_id AND n.customer_id = due.customer_id AND n.id = due.id
RETURNING n.tenant_id, n.customer_id, n.id, n.channel, n.dedupe_key, n.destination, n.subject,
          n.body, n.created_at, n.attempt_count
