INSERT INTO consents (tenant_id, customer_id, channel, granted, granted_at, revoked_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, customer_id, channel) DO UPDATE SET
    granted    = excluded.granted,
    granted_at = excluded.granted_at,
    revoked_at = excluded.revoked_at
