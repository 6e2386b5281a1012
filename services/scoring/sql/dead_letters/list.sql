-- A page of the tenant's dead letters by change id, after $2 (empty for the
-- first page). One whose change has been applied since is no longer dead.
SELECT change_id, customer_id, change, reason, first_seen_at, last_seen_at, attempts
FROM dead_letters d
WHERE tenant_id = $1 AND change_id > $2
  AND NOT EXISTS (SELECT 1 FROM applied_changes a
                  WHERE a.tenant_id = d.tenant_id AND a.change_id = d.change_id)
ORDER BY change_id
LIMIT $3
