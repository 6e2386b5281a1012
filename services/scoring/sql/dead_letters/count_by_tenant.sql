-- Every tenant's dead letters whose change has not been applied since (the
-- waiting-letters gauge).
SELECT d.tenant_id, count(*)
FROM dead_letters d
WHERE NOT EXISTS (SELECT 1 FROM applied_changes a
                  WHERE a.tenant_id = d.tenant_id AND a.change_id = d.change_id)
GROUP BY d.tenant_id
