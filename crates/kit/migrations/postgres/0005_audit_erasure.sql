-- An erasure must leave no trace of the customer, and the trail names one in
-- the targets of consent changes ("customer:<id>/consent/<channel>"). The one
-- change the trail now allows is that rewrite: a target naming a customer
-- replaced by one naming the erasure, every other column unchanged. Deleting,
-- truncating and any other update are still refused.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.id = OLD.id AND NEW.tenant_id = OLD.tenant_id AND NEW.at = OLD.at
        AND NEW.actor = OLD.actor AND NEW.rpc = OLD.rpc AND NEW.summary = OLD.summary
        AND starts_with(OLD.target, 'customer:') AND starts_with(NEW.target, 'erasure:')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
