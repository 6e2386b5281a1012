-- At most $3 rows of the sentinel day ($1) applied before $2.
DELETE FROM applied_changes
WHERE rowid IN (SELECT rowid FROM applied_changes
                WHERE change_day = $1 AND applied_at < $2
                LIMIT $3)
