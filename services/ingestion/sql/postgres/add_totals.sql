-- Adds what the stored rows weigh to their customers' totals, locked by
-- lock_totals.sql earlier in the same transaction.
UPDATE customer_totals AS t
SET total_minor = t.total_minor + a.added
FROM UNNEST($2::uuid[], $3::bigint[]) AS a (customer_id, added)
WHERE t.tenant_id = $1 AND t.customer_id = a.customer_id
