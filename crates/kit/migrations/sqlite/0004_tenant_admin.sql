-- The operator's AdminService: a tenant may be disabled (its keys are
-- refused while it is), and may be created by a request carrying an
-- idempotency key.
ALTER TABLE tenants ADD COLUMN disabled_at INTEGER;
ALTER TABLE tenants ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
-- Bumped by every disable and enable, so the watcher, which polls, sees a
-- change even when a tenant was disabled and enabled between two polls.
ALTER TABLE tenants ADD COLUMN status_changes INTEGER NOT NULL DEFAULT 0;
-- The idempotency key of the CreateTenant request that made the tenant.
ALTER TABLE tenants ADD COLUMN request_id TEXT;
CREATE UNIQUE INDEX tenants_request ON tenants (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX tenants_created ON tenants (created_at, id);
