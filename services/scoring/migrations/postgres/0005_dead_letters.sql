-- Changes ApplyChanges could not apply (a bad field, totals past the range of
-- bigint, ...), kept with the reason so the rest of a call is applied and an
-- operator can re-drive them once the cause is fixed. The change is stored as
-- delivered (a prost-encoded rapport.v1.ChangeEvent).
CREATE TABLE dead_letters (
    tenant_id     uuid        NOT NULL,
    change_id     text        NOT NULL,
    -- As sent: it may be what made the change unusable.
    customer_id   text        NOT NULL,
    change        bytea       NOT NULL,
    reason        text        NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    attempts      integer     NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);
