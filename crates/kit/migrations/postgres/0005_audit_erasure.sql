-- An erasure must leave no trace of the customer, and the trail names one in
-- the targets of consent changes ("customer:<id>/consent/<channel>"). The one
-- change the trail now allows is that rewrite: the customer's id in a target
-- replaced by the erasure's id, the rest of the target and every other
-- column unchanged. Deleting, truncating and any other update are still
-- refused.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.at = OLD.at
        AND NEW.actor = OLD.actor AND NEW.rpc = OLD.rpc AND NEW.summary = OLD.summary
        -- "customer:<uuid>/rest" becomes "erasure:<uuid>/rest", the rest kept.
        AND OLD.target ~ '^customer:[0-9a-f-]{36}/'
        AND NEW.target ~ '^erasure:[0-9a-f-]{36}/'
        AND substr(NEW.target, 46) = substr(OLD.target, 47)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
