-- Leases up to $3 due work rows, fairly between tenants (see the Postgres
-- claim): every tenant's oldest due row first, then every tenant's second,
-- each tenant offering at most $3 candidates, its tenants found by a skip
-- scan of the queue. One connection: no one claims alongside, so the single
-- statement is the whole claim.
WITH RECURSIVE tenants(tenant_id) AS (
    SELECT MIN(tenant_id) FROM rules_queue
    UNION ALL
    SELECT (SELECT MIN(q.tenant_id) FROM rules_queue q WHERE q.tenant_id > t.tenant_id)
    FROM tenants t
    WHERE t.tenant_id IS NOT NULL
),
candidates AS (
    SELECT q.rowid AS row_id, q.tenant_id, q.created_at
    FROM tenants t
    JOIN rules_queue q ON q.rowid IN (
        SELECT d.rowid FROM rules_queue d
        WHERE d.tenant_id = t.tenant_id
          AND (d.leased_until IS NULL OR d.leased_until < $1)
        ORDER BY d.created_at
        LIMIT $3
    )
)
UPDATE rules_queue
SET leased_until = $2
WHERE rowid IN (
    SELECT row_id FROM candidates
    ORDER BY row_number() OVER (PARTITION BY tenant_id ORDER BY created_at),
             created_at
    LIMIT $3
)
RETURNING tenant_id, id, customer_id, event, created_at
