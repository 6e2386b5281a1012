-- At most $3 rows of the sentinel day ($1) applied before $2; the day
-- confines both scans to its partition and its applied_at index.
DELETE FROM applied_changes
WHERE change_day = $1
  AND (tenant_id, change_id) IN (SELECT tenant_id, change_id
                                 FROM applied_changes
                                 WHERE change_day = $1 AND applied_at < $2
                                 LIMIT $3)
