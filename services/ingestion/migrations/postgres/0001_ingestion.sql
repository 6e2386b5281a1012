-- Dedupe keys: one row per (tenant, source, external id) ever accepted. Kept
-- outside the partitioned table because a unique key there would have to
-- include the partition column, and a resent row may carry another date.
CREATE TABLE transaction_keys (
    tenant_id   uuid NOT NULL,
    source      text NOT NULL,
    external_id text NOT NULL,
    id          uuid NOT NULL,
    PRIMARY KEY (tenant_id, source, external_id)
);

-- Append-only, partitioned by calendar month (UTC) of occurred_at. Monthly
-- partitions are created on demand by the service before a batch is written;
-- the default partition only catches what slips past that.
-- The primary key doubles as the (tenant_id, customer_id, occurred_at) index
-- ListTransactions and scoring rebuilds read through.
CREATE TABLE transactions (
    tenant_id     uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    id            uuid        NOT NULL,
    source        text        NOT NULL,
    external_id   text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('purchase', 'refund')),
    amount_minor  bigint      NOT NULL,
    currency_code text        NOT NULL,
    margin_minor  bigint,
    cost_minor    bigint,
    category      text        NOT NULL DEFAULT '',
    ingested_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, occurred_at, id)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE transactions_default PARTITION OF transactions DEFAULT;

CREATE TABLE event_keys (
    tenant_id   uuid NOT NULL,
    source      text NOT NULL,
    external_id text NOT NULL,
    id          uuid NOT NULL,
    PRIMARY KEY (tenant_id, source, external_id)
);

CREATE TABLE events (
    tenant_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    occurred_at timestamptz NOT NULL,
    id          uuid        NOT NULL,
    source      text        NOT NULL,
    external_id text        NOT NULL,
    kind        text        NOT NULL,
    properties  jsonb       NOT NULL DEFAULT '{}',
    ingested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, customer_id, occurred_at, id)
);

-- Changes waiting for the relay to hand them to scoring. `change` is a
-- prost-encoded rapport.v1.ChangeEvent; rows are deleted once delivered.
CREATE TABLE outbox (
    id          bigserial   PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    customer_id uuid        NOT NULL,
    change      bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
