-- Claims due rows for one worker, fairly between tenants (see the Postgres
-- claim): every tenant's oldest due row first, then every tenant's second,
-- each tenant offering at most $3 candidates, its tenants found by a skip
-- scan of the due index. SQLite runs one writer at a time, so the single
-- statement is the whole claim; the lease keeps the rows out of other claims
-- while delivery runs.
WITH RECURSIVE tenants(tenant_id) AS (
    SELECT MIN(tenant_id) FROM notifications WHERE status IN ('pending', 'scheduled')
    UNION ALL
    SELECT (SELECT MIN(n.tenant_id) FROM notifications n
            WHERE n.status IN ('pending', 'scheduled') AND n.tenant_id > t.tenant_id)
    FROM tenants t
    WHERE t.tenant_id IS NOT NULL
),
candidates AS (
    SELECT n.rowid AS row_id, n.tenant_id, n.next_attempt_at
    FROM tenants t
    JOIN notifications n ON n.rowid IN (
        SELECT d.rowid FROM notifications d
        WHERE d.tenant_id = t.tenant_id
          AND d.status IN ('pending', 'scheduled')
          AND d.next_attempt_at <= $1
          AND (d.locked_until IS NULL OR d.locked_until <= $1)
        ORDER BY d.next_attempt_at
        LIMIT $3
    )
)
UPDATE notifications
SET locked_until = $2, lease_id = $4
WHERE rowid IN (
    SELECT row_id FROM candidates
    ORDER BY row_number() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at),
             next_attempt_at
    LIMIT $3
)
RETURNING tenant_id, customer_id, id, channel, dedupe_key, destination, subject, body,
          created_at, attempt_count, integration_endpoint
