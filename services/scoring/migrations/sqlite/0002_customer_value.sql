-- What the customer-value models need beyond the first-cut aggregates. Times
-- are microseconds since the epoch; JSON is text.

ALTER TABLE customer_scores ADD COLUMN purchase_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_scores ADD COLUMN purchase_weeks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_scores ADD COLUMN first_day_purchase_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_scores ADD COLUMN first_week_purchase_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_scores ADD COLUMN margin_total_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_scores ADD COLUMN wallet_estimate_minor INTEGER;

ALTER TABLE customer_monthly ADD COLUMN margin_minor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_monthly ADD COLUMN purchases INTEGER NOT NULL DEFAULT 0;

-- Purchases per customer and UTC day (days since 1970-01-01).
CREATE TABLE customer_days (
    tenant_id      TEXT    NOT NULL,
    customer_id    TEXT    NOT NULL,
    day            INTEGER NOT NULL,
    purchases      INTEGER NOT NULL,
    purchase_minor INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, day)
);

CREATE TABLE model_fits (
    tenant_id       TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    model           TEXT    NOT NULL,
    fitted_at       INTEGER NOT NULL,
    observation_end INTEGER NOT NULL,
    time_unit       TEXT    NOT NULL,
    parameters      TEXT    NOT NULL,
    standard_errors TEXT,
    log_likelihood  REAL    NOT NULL,
    iterations      INTEGER NOT NULL,
    converged       INTEGER NOT NULL,
    customers       INTEGER NOT NULL,
    selected        INTEGER NOT NULL,
    fingerprint     TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, version, model)
);

CREATE TABLE settings (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    version    INTEGER NOT NULL,
    settings   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE population (
    tenant_id       TEXT    NOT NULL PRIMARY KEY,
    computed_at     INTEGER NOT NULL,
    customers       INTEGER NOT NULL,
    breakpoints     TEXT,
    tier_cutoffs    TEXT    NOT NULL,
    preferred_model TEXT,
    last_error      TEXT,
    last_error_at   INTEGER
);

CREATE TABLE refresh_leases (
    tenant_id    TEXT    NOT NULL PRIMARY KEY,
    due_at       INTEGER NOT NULL,
    leased_until INTEGER
);
CREATE INDEX refresh_leases_due ON refresh_leases (due_at);
