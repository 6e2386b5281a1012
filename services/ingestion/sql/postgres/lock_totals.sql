-- Locks the totals of a batch's customers ($2, distinct and sorted, so two
-- batches lock them in the same order and cannot deadlock), starting new
-- customers at 0, and returns them as last committed: a concurrent batch for
-- the same customer waits here until this one commits.
INSERT INTO customer_totals AS t (tenant_id, customer_id, total_minor)
SELECT $1, c.customer_id, 0
FROM UNNEST($2::uuid[]) WITH ORDINALITY AS c (customer_id, n)
ORDER BY c.n
ON CONFLICT (tenant_id, customer_id) DO UPDATE SET total_minor = t.total_minor
RETURNING t.customer_id, t.total_minor
