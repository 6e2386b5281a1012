-- One page of counting a tenant's scores by key: how many there are after
-- $2, up to $3, and the last of them (as text: Postgres has no max(uuid);
-- the text of a uuid sorts as the uuid does).
SELECT count(*), max(CAST(customer_id AS text)) FROM (
    SELECT customer_id FROM customer_scores
    WHERE tenant_id = $1 AND ($2 IS NULL OR customer_id > $2)
    ORDER BY customer_id
    LIMIT $3
) AS page
