-- Changes ApplyChanges could not apply (a bad field, totals past the range of
-- a 64-bit integer, ...), kept with the reason so the rest of a call is
-- applied and an operator can re-drive them once the cause is fixed. The
-- change is stored as delivered (a prost-encoded rapport.v1.ChangeEvent);
-- times are microseconds since the epoch.
CREATE TABLE dead_letters (
    tenant_id     TEXT    NOT NULL,
    change_id     TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    change        BLOB    NOT NULL,
    reason        TEXT    NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);

-- SQLite turns an integer sum past the 64-bit range into a float instead of
-- failing (Postgres raises 22003 for bigint); these make it fail the same way,
-- so an aggregate is never stored as a float and both stores refuse the same
-- change with the same reason.
CREATE TRIGGER customer_scores_in_range BEFORE UPDATE ON customer_scores
WHEN typeof(NEW.purchase_count) = 'real' OR typeof(NEW.refund_count) = 'real'
  OR typeof(NEW.purchase_total_minor) = 'real' OR typeof(NEW.refund_total_minor) = 'real'
  OR typeof(NEW.interaction_count) = 'real' OR typeof(NEW.margin_total_minor) = 'real'
  OR typeof(NEW.first_day_purchase_minor) = 'real' OR typeof(NEW.first_week_purchase_minor) = 'real'
BEGIN
    SELECT RAISE(ABORT, 'customer totals would exceed the representable range');
END;

CREATE TRIGGER customer_days_in_range BEFORE UPDATE ON customer_days
WHEN typeof(NEW.purchases) = 'real' OR typeof(NEW.purchase_minor) = 'real'
BEGIN
    SELECT RAISE(ABORT, 'customer totals would exceed the representable range');
END;

CREATE TRIGGER customer_monthly_in_range BEFORE UPDATE ON customer_monthly
WHEN typeof(NEW.net_minor) = 'real' OR typeof(NEW.margin_minor) = 'real'
  OR typeof(NEW.purchases) = 'real'
BEGIN
    SELECT RAISE(ABORT, 'customer totals would exceed the representable range');
END;
