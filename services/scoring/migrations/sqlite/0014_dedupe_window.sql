-- The dedupe table gets a retention window; see the Postgres migration of
-- the same number. SQLite keeps one table under its old key (it has no
-- partitions, so the key need not hold the day) and adds the day for the
-- retention pass: days since 1970-01-01 of the UUIDv7 in "txn:<v7>",
-- "evt:<v7>" or a bare v7, 0 for every other id (those rows are trimmed
-- by applied_at). The rows already applied get their day by the same rule.
ALTER TABLE applied_changes ADD COLUMN change_day INTEGER NOT NULL DEFAULT 0;

UPDATE applied_changes
SET change_day = (
    WITH id (u) AS (
        SELECT CASE WHEN substr(change_id, 1, 4) IN ('txn:', 'evt:')
                    THEN substr(change_id, 5) ELSE change_id END
    ),
    digits (i, v) AS (
        SELECT 1, 0
        UNION ALL
        SELECT i + 1,
               v * 16 + instr('0123456789abcdef',
                              substr((SELECT substr(u, 1, 8) || substr(u, 10, 4) FROM id), i, 1)) - 1
        FROM digits WHERE i <= 12
    )
    SELECT v / 86400000 FROM digits WHERE i = 13
)
WHERE (CASE WHEN substr(change_id, 1, 4) IN ('txn:', 'evt:')
            THEN substr(change_id, 5) ELSE change_id END)
      GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-7[0-9a-f][0-9a-f][0-9a-f]-[89ab][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]';

-- What the retention pass deletes by: old days, and legacy rows (day 0)
-- by when they were applied.
CREATE INDEX applied_changes_by_day ON applied_changes (change_day, applied_at);

-- The oldest day (a day number) whose rows are still all kept; see the
-- Postgres migration.
CREATE TABLE dedupe_horizon (
    singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
    forgotten_before INTEGER NOT NULL
);
