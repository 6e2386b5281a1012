-- The rules claim walks the tenants that have queued work and takes each
-- one's oldest rows in turn, so it needs the queue by tenant, oldest first;
-- the global oldest-first index served only the claim this one replaces.
CREATE INDEX rules_queue_due_by_tenant ON rules_queue (tenant_id, created_at);
DROP INDEX rules_queue_due;
