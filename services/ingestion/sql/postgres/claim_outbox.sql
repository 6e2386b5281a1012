-- Rows another relay replica holds are skipped, not waited for.
SELECT id, tenant_id, change
FROM outbox
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED
