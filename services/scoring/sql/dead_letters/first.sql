-- The first $2 of the tenant's dead letters by change id, to re-drive.
SELECT change_id, customer_id, change, reason, first_seen_at, last_seen_at, attempts
FROM dead_letters
WHERE tenant_id = $1
ORDER BY change_id
LIMIT $2
