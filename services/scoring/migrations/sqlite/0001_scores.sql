-- Change ids already applied, so a redelivered change is counted once.
CREATE TABLE applied_changes (
    tenant_id   TEXT    NOT NULL,
    change_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    applied_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, change_id)
);

-- One row per customer, updated incrementally as changes arrive. Times are
-- microseconds since the epoch.
CREATE TABLE customer_scores (
    tenant_id            TEXT    NOT NULL,
    customer_id          TEXT    NOT NULL,
    version              INTEGER NOT NULL,
    first_purchase_at    INTEGER,
    last_purchase_at     INTEGER,
    purchase_count       INTEGER NOT NULL,
    refund_count         INTEGER NOT NULL,
    purchase_total_minor INTEGER NOT NULL,
    refund_total_minor   INTEGER NOT NULL,
    currency_code        TEXT    NOT NULL,
    last_interaction_at  INTEGER,
    interaction_count    INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- Keyset paging of ListScores, one index per order (highest first).
CREATE INDEX customer_scores_by_net
    ON customer_scores (tenant_id, (purchase_total_minor - refund_total_minor) DESC, customer_id DESC);
CREATE INDEX customer_scores_by_count
    ON customer_scores (tenant_id, purchase_count DESC, customer_id DESC);
CREATE INDEX customer_scores_by_last
    ON customer_scores (tenant_id, COALESCE(last_purchase_at, -9223372036854775808) DESC, customer_id DESC);

-- Net spend per customer and calendar month ('YYYY-MM').
CREATE TABLE customer_monthly (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    month       TEXT    NOT NULL,
    net_minor   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, month)
);
