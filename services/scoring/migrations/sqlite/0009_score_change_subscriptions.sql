-- Score change subscriptions: the feed's events delivered to a registered
-- integration endpoint through the notifications service (see the Postgres
-- migration of the same number). Times are microseconds since the epoch.
CREATE TABLE score_change_subscriptions (
    tenant_id     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    endpoint      TEXT    NOT NULL,
    kinds         TEXT    NOT NULL DEFAULT '',
    description   TEXT    NOT NULL DEFAULT '',
    xid           INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    batch_xid     INTEGER,
    batch_seq     INTEGER,
    delivered     INTEGER NOT NULL DEFAULT 0,
    posts         INTEGER NOT NULL DEFAULT 0,
    last_post_at  INTEGER,
    last_error    TEXT    NOT NULL DEFAULT '',
    last_error_at INTEGER,
    gap_at        INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT,
    lease_until   INTEGER,
    next_at       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE INDEX score_change_subscriptions_due ON score_change_subscriptions (next_at);
