-- At most $2 rows kept under days before $1 (day numbers; 0, the sentinel
-- day, is trimmed by applied_at instead).
DELETE FROM applied_changes
WHERE rowid IN (SELECT rowid FROM applied_changes
                WHERE change_day > 0 AND change_day < $1
                LIMIT $2)
