-- One index probe per key, whatever the planner believes about the table:
-- the LIMIT keeps the subquery from being flattened into a join, which on a
-- tenant whose bulk import has outrun ANALYZE was planned as a hash of every
-- identity the tenant has (a scan per batch, growing with the tenant).
SELECT k.source, k.external_id, i.customer_id
FROM UNNEST($2::text[], $3::text[]) AS k (source, external_id)
CROSS JOIN LATERAL (
    SELECT customer_id FROM identities
    WHERE tenant_id = $1 AND source = k.source AND external_id = k.external_id
    LIMIT 1
) AS i
