SELECT customer_id, source, external_id
FROM identities
WHERE tenant_id = $1 AND customer_id = ANY($2)
