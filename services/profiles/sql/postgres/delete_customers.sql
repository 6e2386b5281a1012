-- The foreign keys cascade to identities, attributes and consents and clear
-- the children's parent_id.
DELETE FROM customers WHERE tenant_id = $1 AND id = ANY($2)
