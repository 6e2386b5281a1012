-- B2B opportunities. Events are append-only and deduplicated like
-- transactions' by (tenant, source, external id) in a key table that keeps
-- no customer data (it stays after an erasure, so a replay stays a duplicate).
CREATE TABLE opportunity_event_keys (
    tenant_id   uuid NOT NULL,
    source      text NOT NULL,
    external_id text NOT NULL,
    id          uuid NOT NULL,
    PRIMARY KEY (tenant_id, source, external_id)
);

-- customer_id is the account. expected_close, amount and stage are as of
-- the event; the current state is folded from the events in occurred_at
-- order by the refit job.
CREATE TABLE opportunity_events (
    tenant_id       uuid        NOT NULL,
    customer_id     uuid        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    id              uuid        NOT NULL,
    source          text        NOT NULL,
    external_id     text        NOT NULL,
    opportunity_ref text        NOT NULL,
    kind            text        NOT NULL
        CHECK (kind IN ('created', 'stage_changed', 'won', 'lost')),
    stage           text        NOT NULL DEFAULT '',
    amount_minor    bigint,
    expected_close  timestamptz,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, occurred_at, id)
);
-- The refit reads a tenant's events opportunity by opportunity, in order.
CREATE INDEX opportunity_events_by_opportunity
    ON opportunity_events (tenant_id, source, opportunity_ref, occurred_at, id);

-- One row per tenant: the refit job. Each accepted batch bumps
-- requested_seq in its own transaction; a refit records the value it read
-- when it took the lease, so a batch committed meanwhile asks for another.
-- model is the fitted model's figures (JSON; stage names, no customer data).
CREATE TABLE opportunity_fits (
    tenant_id     uuid        PRIMARY KEY,
    requested_seq bigint      NOT NULL DEFAULT 0,
    fitted_seq    bigint      NOT NULL DEFAULT 0,
    lease_owner   uuid,
    lease_until   timestamptz,
    fitted_at     timestamptz,
    model         text        NOT NULL DEFAULT ''
);

-- The latest refit's snapshot: each opportunity's state and score.
-- expected_value_minor is 0 where there is no probability (thin history,
-- lost), the amount for won ones; explanation is JSON.
CREATE TABLE opportunities (
    tenant_id            uuid        NOT NULL,
    customer_id          uuid        NOT NULL,
    source               text        NOT NULL,
    opportunity_ref      text        NOT NULL,
    status               text        NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    stage                text        NOT NULL,
    amount_minor         bigint      NOT NULL,
    expected_close       timestamptz,
    opened_at            timestamptz NOT NULL,
    stage_entered_at     timestamptz NOT NULL,
    closed_at            timestamptz,
    probability          double precision,
    expected_value_minor bigint      NOT NULL,
    explanation          text        NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, source, opportunity_ref)
);
CREATE UNIQUE INDEX opportunities_by_ref ON opportunities (tenant_id, source, opportunity_ref);
-- ListOpportunities' order, with and without a status.
CREATE INDEX opportunities_by_value
    ON opportunities (tenant_id, expected_value_minor DESC, source, opportunity_ref);
CREATE INDEX opportunities_by_status_value
    ON opportunities (tenant_id, status, expected_value_minor DESC, source, opportunity_ref);

-- The roll-ups: level 'account' (key the customer id), 'parent' (key the
-- parent account's customer id) or 'tier' (key the tier name).
CREATE TABLE opportunity_rollups (
    tenant_id            uuid   NOT NULL,
    level                text   NOT NULL CHECK (level IN ('account', 'parent', 'tier')),
    key                  text   NOT NULL,
    accounts             bigint NOT NULL,
    open_count           bigint NOT NULL,
    open_amount_minor    bigint NOT NULL,
    expected_value_minor bigint NOT NULL,
    won_count            bigint NOT NULL,
    won_amount_minor     bigint NOT NULL,
    lost_count           bigint NOT NULL,
    PRIMARY KEY (tenant_id, level, key)
);
CREATE INDEX opportunity_rollups_by_value
    ON opportunity_rollups (tenant_id, level, expected_value_minor DESC, key);
