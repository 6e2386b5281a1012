-- Claims due rows for one worker, fairly between tenants: each tenant's due
-- rows are ranked oldest first and the claim takes every tenant's first row,
-- then every tenant's second, and so on, so one tenant's backlog cannot
-- starve another tenant's single message. The tenants are found by a skip
-- scan of the due index (one probe per tenant, however many rows each has)
-- and each offers at most $3 candidates. Only the rows chosen are locked:
-- SKIP LOCKED lets replicas claim at the same time without waiting on each
-- other (a row another claim took meanwhile fails the re-checked conditions),
-- and the lease (locked_until) keeps the rows out of other claims after this
-- statement commits.
WITH RECURSIVE tenants AS (
    (SELECT tenant_id FROM notifications
     WHERE status IN ('pending', 'scheduled')
     ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT n.tenant_id FROM notifications n
            WHERE n.status IN ('pending', 'scheduled') AND n.tenant_id > t.tenant_id
            ORDER BY n.tenant_id LIMIT 1)
    FROM tenants t
    WHERE t.tenant_id IS NOT NULL
),
candidates AS (
    SELECT c.tenant_id, c.customer_id, c.id
    FROM tenants t
    CROSS JOIN LATERAL (
        SELECT n.tenant_id, n.customer_id, n.id, n.next_attempt_at
        FROM notifications n
        WHERE n.tenant_id = t.tenant_id
          AND n.status IN ('pending', 'scheduled')
          AND n.next_attempt_at <= $1
          AND (n.locked_until IS NULL OR n.locked_until <= $1)
        ORDER BY n.next_attempt_at
        LIMIT $3
    ) c
    ORDER BY row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.next_attempt_at),
             c.next_attempt_at
    LIMIT $3
),
due AS (
    SELECT n.tenant_id, n.customer_id, n.id
    FROM notifications n
    JOIN candidates c
      ON n.tenant_id = c.tenant_id AND n.customer_id = c.customer_id AND n.id = c.id
    WHERE n.status IN ('pending', 'scheduled')
      AND n.next_attempt_at <= $1
      AND (n.locked_until IS NULL OR n.locked_until <= $1)
    FOR UPDATE OF n SKIP LOCKED
)
UPDATE notifications AS n
SET locked_until = $2, lease_id = $4
FROM due
WHERE n.tenant_id = due.tenant_id AND n.customer_id = due.customer_id AND n.id = due.id
RETURNING n.tenant_id, n.customer_id, n.id, n.channel, n.dedupe_key, n.destination, n.subject,
          n.body, n.created_at, n.attempt_count, n.integration_endpoint
