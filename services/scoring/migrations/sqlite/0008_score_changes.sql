-- The score change feed (WatchScoreChanges): one row per customer whose tier,
-- RFM segment, lifecycle segment, P(alive) band or lifetime value changed,
-- written in the transaction that wrote the score. `event` is a prost-encoded
-- rapport.v1.ScoreChangeEvent without its resume token; `at` is microseconds
-- since the epoch.
--
-- SQLite has one writer at a time, so rowid order is commit order; with
-- AUTOINCREMENT a rowid is never reused after the retention pass deletes the
-- newest rows. `xid` is always 0 here (positions are (xid, seq) on both
-- stores).
CREATE TABLE score_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT    NOT NULL,
    xid         INTEGER NOT NULL DEFAULT 0,
    customer_id TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    event       BLOB    NOT NULL
);

CREATE INDEX score_changes_tenant ON score_changes (tenant_id, seq);
CREATE INDEX score_changes_at ON score_changes (at);

-- The newest position the retention pass has deleted, per tenant.
CREATE TABLE score_change_horizons (
    tenant_id TEXT    NOT NULL PRIMARY KEY,
    xid       INTEGER NOT NULL,
    seq       INTEGER NOT NULL
);
