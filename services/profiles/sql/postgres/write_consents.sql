INSERT INTO consents (tenant_id, customer_id, channel, granted, granted_at, revoked_at)
SELECT $1, *
FROM UNNEST($2::uuid[], $3::int4[], $4::bool[], $5::timestamptz[], $6::timestamptz[])
ON CONFLICT (tenant_id, customer_id, channel) DO UPDATE SET
    granted    = EXCLUDED.granted,
    granted_at = EXCLUDED.granted_at,
    revoked_at = EXCLUDED.revoked_at
