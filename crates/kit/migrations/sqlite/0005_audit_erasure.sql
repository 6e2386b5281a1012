-- An erasure must leave no trace of the customer, and the trail names one in
-- the targets of consent changes ("customer:<id>/consent/<channel>"). The one
-- change the trail now allows is that rewrite: the customer's id in a target
-- replaced by the erasure's id, the rest of the target and every other
-- column unchanged. Deleting and any other update are still refused.
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    NEW.id IS OLD.id AND NEW.tenant_id IS OLD.tenant_id AND NEW.at IS OLD.at
    AND NEW.actor IS OLD.actor AND NEW.rpc IS OLD.rpc AND NEW.summary IS OLD.summary
    -- "customer:<uuid>/rest" becomes "erasure:<uuid>/rest", the rest kept.
    AND substr(OLD.target, 1, 9) = 'customer:' AND substr(OLD.target, 46, 1) = '/'
    AND substr(NEW.target, 1, 8) = 'erasure:' AND substr(NEW.target, 45, 1) = '/'
    AND substr(NEW.target, 46) IS substr(OLD.target, 47)
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
