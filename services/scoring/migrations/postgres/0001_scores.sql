-- Change ids already applied, so a redelivered change is counted once.
CREATE TABLE applied_changes (
    tenant_id   uuid        NOT NULL,
    change_id   text        NOT NULL,
    customer_id uuid        NOT NULL,
    applied_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);

-- One row per customer, updated incrementally as changes arrive.
CREATE TABLE customer_scores (
    tenant_id            uuid        NOT NULL,
    customer_id          uuid        NOT NULL,
    version              bigint      NOT NULL,
    first_purchase_at    timestamptz,
    last_purchase_at     timestamptz,
    purchase_count       bigint      NOT NULL,
    refund_count         bigint      NOT NULL,
    purchase_total_minor bigint      NOT NULL,
    refund_total_minor   bigint      NOT NULL,
    currency_code        text        NOT NULL,
    last_interaction_at  timestamptz,
    interaction_count    bigint      NOT NULL,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- Keyset paging of ListScores, one index per order (highest first).
CREATE INDEX customer_scores_by_net
    ON customer_scores (tenant_id, (purchase_total_minor - refund_total_minor) DESC, customer_id DESC);
CREATE INDEX customer_scores_by_count
    ON customer_scores (tenant_id, purchase_count DESC, customer_id DESC);
CREATE INDEX customer_scores_by_last
    ON customer_scores (tenant_id, (COALESCE(last_purchase_at, '-infinity'::timestamptz)) DESC, customer_id DESC);

-- Net spend per customer and calendar month ('YYYY-MM').
CREATE TABLE customer_monthly (
    tenant_id   uuid   NOT NULL,
    customer_id uuid   NOT NULL,
    month       text   NOT NULL,
    net_minor   bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, month)
);
