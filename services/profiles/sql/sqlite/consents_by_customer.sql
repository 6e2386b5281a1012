SELECT customer_id, channel, granted, granted_at, revoked_at
FROM consents
WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
