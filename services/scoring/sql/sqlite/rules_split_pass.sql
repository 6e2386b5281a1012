-- The ranges of a split schedule pass, numbered from 0 in the order given. A
-- second split of the same pass changes nothing. (An upsert after a SELECT
-- needs its WHERE clause, or SQLite reads ON CONFLICT as a join's.)
INSERT INTO rules_pass_ranges (tenant_id, due_at, range_no, first_id, last_id)
SELECT $1, $2, f.key, f.value, l.value
FROM json_each($3) f JOIN json_each($4) l ON l.key = f.key
WHERE true
ON CONFLICT (tenant_id, due_at, range_no) DO NOTHING
