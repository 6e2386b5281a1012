-- The audit trail: who changed what, per tenant. Append-only: no code path
-- updates or deletes a row, and the trigger below refuses it to anyone
-- short of dropping the trigger (the owner of the schema can; the audit is
-- not proof against the database's own administrator). No personal data is
-- ever written here, so an erasure need not touch it.
CREATE TABLE audit_events (
    id        uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES tenants (id),
    at        timestamptz NOT NULL,
    -- "api_key:<key id>" or "internal:<service>".
    actor     text NOT NULL,
    -- The full method name, "/rapport.v1.Service/Method".
    rpc       text NOT NULL,
    -- What changed, e.g. "rule:<id>", "settings", "api_key:<id>".
    target    text NOT NULL,
    -- A short JSON before/after, without secrets or personal data.
    summary   text NOT NULL
);
CREATE INDEX audit_events_tenant_at ON audit_events (tenant_id, at DESC, id DESC);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
