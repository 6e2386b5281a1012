CREATE TABLE tenants (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    currency_code text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 hashes; the key itself is shown once.
CREATE TABLE api_keys (
    key_hash   text PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    label      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);
