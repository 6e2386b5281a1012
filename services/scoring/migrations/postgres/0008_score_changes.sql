-- The score change feed (WatchScoreChanges): one row per customer whose tier,
-- RFM segment, lifecycle segment, P(alive) band or lifetime value changed,
-- written in the transaction that wrote the score. `event` is a prost-encoded
-- rapport.v1.ScoreChangeEvent without its resume token.
--
-- Read in (xid, seq) order, and only below the oldest transaction still
-- running (pg_snapshot_xmin of the reader's snapshot): a sequence value is
-- taken before its transaction commits, so a reader that went by seq alone
-- could pass a row that commits later and never see it. Every transaction
-- below that horizon has ended, so a position once passed never gains a row.
CREATE TABLE score_changes (
    tenant_id   uuid        NOT NULL,
    xid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    seq         bigserial   NOT NULL,
    customer_id uuid        NOT NULL,
    at          timestamptz NOT NULL,
    event       bytea       NOT NULL,
    PRIMARY KEY (tenant_id, xid, seq)
);

-- The retention pass deletes by age across tenants.
CREATE INDEX score_changes_at ON score_changes (at);

-- The newest position the retention pass has deleted, per tenant: a resume
-- token below it has lost an event and is refused rather than resumed with a
-- gap.
CREATE TABLE score_change_horizons (
    tenant_id uuid   NOT NULL PRIMARY KEY,
    xid       xid8   NOT NULL,
    seq       bigint NOT NULL
);
