-- The ranges of a split schedule pass, numbered from 0 in the order given. A
-- second split of the same pass changes nothing.
INSERT INTO rules_pass_ranges (tenant_id, due_at, range_no, first_id, last_id)
SELECT $1, $2, r.n - 1, r.first_id, r.last_id
FROM UNNEST($3::uuid[], $4::uuid[]) WITH ORDINALITY AS r(first_id, last_id, n)
ON CONFLICT (tenant_id, due_at, range_no) DO NOTHING
