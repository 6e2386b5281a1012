-- Leases up to $3 due work rows, fairly between tenants: each tenant's due
-- rows are ranked oldest first and the claim takes every tenant's first row,
-- then every tenant's second, and so on, so one tenant's backlog cannot stall
-- another tenant's rules. The tenants are found by a skip scan of the queue
-- (one probe per tenant, however many rows each has) and each offers at most
-- $3 candidates. Only the rows chosen are locked: SKIP LOCKED lets replicas
-- claim side by side (a row another claim took meanwhile fails the re-checked
-- lease), and the lease keeps the rows out of other claims after commit.
WITH RECURSIVE tenants AS (
    (SELECT tenant_id FROM rules_queue ORDER BY tenant_id LIMIT 1)
    UNION ALL
    SELECT (SELECT q.tenant_id FROM rules_queue q
            WHERE q.tenant_id > t.tenant_id
            ORDER BY q.tenant_id LIMIT 1)
    FROM tenants t
    WHERE t.tenant_id IS NOT NULL
),
candidates AS (
    SELECT c.tenant_id, c.id
    FROM tenants t
    CROSS JOIN LATERAL (
        SELECT q.tenant_id, q.id, q.created_at
        FROM rules_queue q
        WHERE q.tenant_id = t.tenant_id
          AND (q.leased_until IS NULL OR q.leased_until < $1)
        ORDER BY q.created_at
        LIMIT $3
    ) c
    ORDER BY row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.created_at),
             c.created_at
    LIMIT $3
),
due AS (
    SELECT q.tenant_id, q.id
    FROM rules_queue q
    JOIN candidates c ON q.tenant_id = c.tenant_id AND q.id = c.id
    WHERE q.leased_until IS NULL OR q.leased_until < $1
    FOR UPDATE OF q SKIP LOCKED
)
UPDATE rules_queue q
SET leased_until = $2
FROM due
WHERE q.tenant_id = due.tenant_id AND q.id = due.id
RETURNING q.tenant_id, q.id, q.customer_id, q.event, q.created_at
