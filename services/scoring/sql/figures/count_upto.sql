-- The tenant's scores, counted to at most $2: deciding whether a tenant is
-- small reads no more than $2 index entries, however large it is.
SELECT count(*) FROM (
    SELECT 1 FROM customer_scores WHERE tenant_id = $1 LIMIT $2
) AS upto
