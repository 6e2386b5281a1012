SELECT customer_id, source, external_id
FROM identities
WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
