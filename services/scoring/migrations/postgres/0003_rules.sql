-- Business rules, their versions, evaluation state and what they did. Ids are
-- text and times microseconds since the epoch in these tables, as in SQLite,
-- so one SQL text (sql/rules/) serves both backends.

CREATE TABLE rules (
    tenant_id         text    NOT NULL,
    rule_id           text    NOT NULL,
    name              text    NOT NULL,
    latest_version    bigint  NOT NULL,
    published_version bigint  NOT NULL DEFAULT 0,
    enabled           boolean NOT NULL DEFAULT true,
    created_at        bigint  NOT NULL,
    updated_at        bigint  NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
);
CREATE UNIQUE INDEX rules_name ON rules (tenant_id, name);

CREATE TABLE rule_versions (
    tenant_id    text   NOT NULL,
    rule_id      text   NOT NULL,
    version      bigint NOT NULL,
    definition   text   NOT NULL,
    author       text   NOT NULL,
    created_at   bigint NOT NULL,
    published_at bigint,
    PRIMARY KEY (tenant_id, rule_id, version)
);

-- Idempotency of the mutating RPCs: what a request id did.
CREATE TABLE rule_requests (
    tenant_id  text   NOT NULL,
    request_id text   NOT NULL,
    operation  text   NOT NULL,
    rule_id    text   NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- Work for the rules worker, written with the score change it follows.
CREATE TABLE rules_queue (
    tenant_id    text   NOT NULL,
    id           text   NOT NULL,
    customer_id  text   NOT NULL,
    event        text,
    created_at   bigint NOT NULL,
    leased_until bigint,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rules_queue_due ON rules_queue (created_at);

-- Edge triggering: whether a rule's condition held for a customer last time.
CREATE TABLE rule_states (
    tenant_id   text    NOT NULL,
    rule_id     text    NOT NULL,
    customer_id text    NOT NULL,
    matched     boolean NOT NULL,
    episode     text    NOT NULL,
    updated_at  bigint  NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, customer_id)
);

CREATE TABLE rule_firings (
    tenant_id    text    NOT NULL,
    firing_id    text    NOT NULL,
    rule_id      text    NOT NULL,
    version      bigint  NOT NULL,
    customer_id  text    NOT NULL,
    trigger_kind text    NOT NULL,
    event_kind   text    NOT NULL,
    episode      text    NOT NULL,
    fired_at     bigint  NOT NULL,
    inputs       text    NOT NULL,
    holdout      boolean NOT NULL,
    results      text    NOT NULL,
    PRIMARY KEY (tenant_id, firing_id)
);
-- One firing per episode, whichever replica or retry gets there.
CREATE UNIQUE INDEX rule_firings_episode ON rule_firings (tenant_id, rule_id, customer_id, episode);
CREATE INDEX rule_firings_customer ON rule_firings (tenant_id, customer_id, fired_at);

CREATE TABLE rule_errors (
    tenant_id   text   NOT NULL,
    rule_id     text   NOT NULL,
    version     bigint NOT NULL,
    customer_id text   NOT NULL,
    at          bigint NOT NULL,
    message     text   NOT NULL
);
CREATE INDEX rule_errors_rule ON rule_errors (tenant_id, rule_id, at);

-- Each customer's last seen RFM segment and tier, and the changes seen.
CREATE TABLE customer_membership (
    tenant_id   text   NOT NULL,
    customer_id text   NOT NULL,
    segment     text   NOT NULL,
    tier        text   NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE TABLE membership_events (
    tenant_id   text   NOT NULL,
    event_id    text   NOT NULL,
    customer_id text   NOT NULL,
    kind        text   NOT NULL,
    value       text   NOT NULL,
    previous    text   NOT NULL,
    at          bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

-- What SetTier and Tag actions set; scores show it.
CREATE TABLE customer_marks (
    tenant_id     text NOT NULL,
    customer_id   text NOT NULL,
    tier_override text,
    tier_origin   text,
    tags          text NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- The schedule pass: one row per tenant with published rules, leased like
-- refresh_leases.
CREATE TABLE rules_schedule (
    tenant_id    text   NOT NULL PRIMARY KEY,
    due_at       bigint NOT NULL,
    leased_until bigint
);
