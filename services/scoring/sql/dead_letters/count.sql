-- The tenant's dead letters whose change has not been applied since.
SELECT count(*)
FROM dead_letters d
WHERE tenant_id = $1
  AND NOT EXISTS (SELECT 1 FROM applied_changes a
                  WHERE a.tenant_id = d.tenant_id AND a.change_id = d.change_id)
