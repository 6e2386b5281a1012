-- Score change subscriptions: the feed's events delivered to a registered
-- integration endpoint through the notifications service. A worker leases a
-- subscription (lease_owner, lease_until), reads the log after (xid, seq),
-- records the end of the post it is about to hand over (batch_xid,
-- batch_seq), hands it over with a dedupe key fixed by `id` and the start
-- position, then moves (xid, seq) to the batch's end. A worker that stops in
-- between finds the batch recorded and hands the same post over again, which
-- the dedupe key makes a no-op.
CREATE TABLE score_change_subscriptions (
    tenant_id     uuid        NOT NULL,
    name          text        NOT NULL,
    -- Fixes the dedupe keys: a subscription deleted and made again under
    -- the same name delivers again.
    id            uuid        NOT NULL,
    endpoint      text        NOT NULL,
    -- ScoreChangeKind numbers, comma-separated; empty for every kind.
    kinds         text        NOT NULL DEFAULT '',
    description   text        NOT NULL DEFAULT '',
    xid           bigint      NOT NULL,
    seq           bigint      NOT NULL,
    batch_xid     bigint,
    batch_seq     bigint,
    delivered     bigint      NOT NULL DEFAULT 0,
    posts         bigint      NOT NULL DEFAULT 0,
    last_post_at  timestamptz,
    last_error    text        NOT NULL DEFAULT '',
    last_error_at timestamptz,
    gap_at        timestamptz,
    -- Hand-overs failed in a row, for the backoff.
    failures      bigint      NOT NULL DEFAULT 0,
    lease_owner   uuid,
    lease_until   timestamptz,
    next_at       timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- The worker looks for subscriptions due, across tenants.
CREATE INDEX score_change_subscriptions_due ON score_change_subscriptions (next_at);
