-- Keys are managed by an id and a short prefix of the key, never by the key
-- itself. Keys made before this migration get an id; their prefix is unknown
-- (the key was never stored) and stays empty.
ALTER TABLE api_keys ADD COLUMN id TEXT;
UPDATE api_keys SET id =
    lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' ||
    substr(lower(hex(randomblob(2))), 2) || '-a' || substr(lower(hex(randomblob(2))), 2) ||
    '-' || lower(hex(randomblob(6)))
    WHERE id IS NULL;
CREATE UNIQUE INDEX api_keys_id ON api_keys (id);

ALTER TABLE api_keys ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
-- When the key last authenticated a request; recorded once per cache
-- lifetime per replica, not on every request.
ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;
-- The idempotency key of the CreateApiKey request that made the key.
ALTER TABLE api_keys ADD COLUMN request_id TEXT;
CREATE UNIQUE INDEX api_keys_request ON api_keys (tenant_id, request_id)
    WHERE request_id IS NOT NULL;
