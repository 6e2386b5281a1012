-- What the customer-value models need beyond the first-cut aggregates.

-- Distinct purchase days and weeks (the models count repeat periods, as Python's
-- lifetimes does), what the first of each held (Gamma-Gamma's repeat-spend mean
-- leaves the first purchase out), margin, and the profile's wallet estimate.
ALTER TABLE customer_scores
    ADD COLUMN purchase_days             bigint NOT NULL DEFAULT 0,
    ADD COLUMN purchase_weeks            bigint NOT NULL DEFAULT 0,
    ADD COLUMN first_day_purchase_minor  bigint NOT NULL DEFAULT 0,
    ADD COLUMN first_week_purchase_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN margin_total_minor        bigint NOT NULL DEFAULT 0,
    ADD COLUMN wallet_estimate_minor     bigint;

-- Margin (computed when a change is applied) and purchases per month.
ALTER TABLE customer_monthly
    ADD COLUMN margin_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN purchases    bigint NOT NULL DEFAULT 0;

-- Purchases per customer and UTC day (days since 1970-01-01): the histories
-- the models are fitted on, at any observation end.
CREATE TABLE customer_days (
    tenant_id      uuid    NOT NULL,
    customer_id    uuid    NOT NULL,
    day            integer NOT NULL,
    purchases      bigint  NOT NULL,
    purchase_minor bigint  NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, day)
);

-- Fitted models: one version per fit, one row per model in it.
CREATE TABLE model_fits (
    tenant_id       uuid             NOT NULL,
    version         bigint           NOT NULL,
    model           text             NOT NULL,
    fitted_at       timestamptz      NOT NULL,
    observation_end timestamptz      NOT NULL,
    time_unit       text             NOT NULL,
    parameters      jsonb            NOT NULL,
    standard_errors jsonb,
    log_likelihood  double precision NOT NULL,
    iterations      bigint           NOT NULL,
    converged       boolean          NOT NULL,
    customers       bigint           NOT NULL,
    selected        boolean          NOT NULL,
    -- Hash of the fit's inputs: a repeated fit over unchanged data is recognised.
    fingerprint     text             NOT NULL,
    PRIMARY KEY (tenant_id, version, model)
);

-- Scoring settings per tenant; absent means defaults.
CREATE TABLE settings (
    tenant_id  uuid        NOT NULL PRIMARY KEY,
    version    bigint      NOT NULL,
    settings   jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Population figures per tenant, refreshed with every fit.
CREATE TABLE population (
    tenant_id       uuid        NOT NULL PRIMARY KEY,
    computed_at     timestamptz NOT NULL,
    customers       bigint      NOT NULL,
    breakpoints     jsonb,
    tier_cutoffs    jsonb       NOT NULL,
    preferred_model text,
    last_error      text,
    last_error_at   timestamptz
);

-- The background refresh: one row per tenant, claimed with FOR UPDATE SKIP
-- LOCKED so that one replica refreshes a tenant at a time.
CREATE TABLE refresh_leases (
    tenant_id    uuid        NOT NULL PRIMARY KEY,
    due_at       timestamptz NOT NULL,
    leased_until timestamptz
);
CREATE INDEX refresh_leases_due ON refresh_leases (due_at);
