-- A new signing secret; the one it replaces moves aside and keeps signing
-- until $4. The right-hand sides read the row as it was, so the old secret
-- moves as stored (sealed or not; either opens).
INSERT INTO webhook_secrets (tenant_id, secret, created_at, previous_secret, previous_until)
VALUES ($1, $2, $3, NULL, NULL)
ON CONFLICT (tenant_id) DO UPDATE
SET secret = excluded.secret,
    created_at = excluded.created_at,
    previous_secret = webhook_secrets.secret,
    previous_until = $4
