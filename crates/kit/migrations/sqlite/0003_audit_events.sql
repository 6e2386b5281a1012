-- The audit trail: who changed what, per tenant. Append-only: no code path
-- updates or deletes a row, and the triggers below refuse it. No personal
-- data is ever written here, so an erasure need not touch it.
CREATE TABLE audit_events (
    id        TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    at        INTEGER NOT NULL,
    -- "api_key:<key id>" or "internal:<service>".
    actor     TEXT NOT NULL,
    -- The full method name, "/rapport.v1.Service/Method".
    rpc       TEXT NOT NULL,
    -- What changed, e.g. "rule:<id>", "settings", "api_key:<id>".
    target    TEXT NOT NULL,
    -- A short JSON before/after, without secrets or personal data.
    summary   TEXT NOT NULL
);
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at DESC, id DESC);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
