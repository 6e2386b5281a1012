-- The claim walks the tenants that have due rows and takes each one's oldest
-- in turn, so it needs the queue by tenant, oldest first.
CREATE INDEX notifications_due_by_tenant ON notifications (tenant_id, next_attempt_at)
    WHERE status IN ('pending', 'scheduled');
