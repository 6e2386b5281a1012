-- An erasure must leave no trace of the customer, and the trail names one in
-- the targets of consent changes ("customer:<id>/consent/<channel>"). The one
-- change the trail now allows is that rewrite: a target naming a customer
-- replaced by one naming the erasure, every other column unchanged. Deleting
-- and any other update are still refused.
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    NEW.id IS OLD.id AND NEW.tenant_id IS OLD.tenant_id AND NEW.at IS OLD.at
    AND NEW.actor IS OLD.actor AND NEW.rpc IS OLD.rpc AND NEW.summary IS OLD.summary
    AND substr(OLD.target, 1, 9) = 'customer:' AND substr(NEW.target, 1, 8) = 'erasure:'
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
