-- Business rules, their versions, evaluation state and what they did (see the
-- Postgres migration of the same number). Times are microseconds.

CREATE TABLE rules (
    tenant_id         TEXT    NOT NULL,
    rule_id           TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    latest_version    INTEGER NOT NULL,
    published_version INTEGER NOT NULL DEFAULT 0,
    enabled           INTEGER NOT NULL DEFAULT 1,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, rule_id)
);
CREATE UNIQUE INDEX rules_name ON rules (tenant_id, name);

CREATE TABLE rule_versions (
    tenant_id    TEXT   NOT NULL,
    rule_id      TEXT   NOT NULL,
    version      INTEGER NOT NULL,
    definition   TEXT   NOT NULL,
    author       TEXT   NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER,
    PRIMARY KEY (tenant_id, rule_id, version)
);

-- Idempotency of the mutating RPCs: what a request id did.
CREATE TABLE rule_requests (
    tenant_id  TEXT   NOT NULL,
    request_id TEXT   NOT NULL,
    operation  TEXT   NOT NULL,
    rule_id    TEXT   NOT NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, request_id)
);

-- Work for the rules worker, written with the score change it follows.
CREATE TABLE rules_queue (
    tenant_id    TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    customer_id  TEXT   NOT NULL,
    event        TEXT,
    created_at   INTEGER NOT NULL,
    leased_until INTEGER,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX rules_queue_due ON rules_queue (created_at);

-- Edge triggering: whether a rule's condition held for a customer last time.
CREATE TABLE rule_states (
    tenant_id   TEXT    NOT NULL,
    rule_id     TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    matched     INTEGER NOT NULL,
    episode     TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, rule_id, customer_id)
);

CREATE TABLE rule_firings (
    tenant_id    TEXT    NOT NULL,
    firing_id    TEXT    NOT NULL,
    rule_id      TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    customer_id  TEXT    NOT NULL,
    trigger_kind TEXT    NOT NULL,
    event_kind   TEXT    NOT NULL,
    episode      TEXT    NOT NULL,
    fired_at     INTEGER NOT NULL,
    inputs       TEXT    NOT NULL,
    holdout      INTEGER NOT NULL,
    results      TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, firing_id)
);
-- One firing per episode, whichever replica or retry gets there.
CREATE UNIQUE INDEX rule_firings_episode ON rule_firings (tenant_id, rule_id, customer_id, episode);
CREATE INDEX rule_firings_customer ON rule_firings (tenant_id, customer_id, fired_at);

CREATE TABLE rule_errors (
    tenant_id   TEXT   NOT NULL,
    rule_id     TEXT   NOT NULL,
    version     INTEGER NOT NULL,
    customer_id TEXT   NOT NULL,
    at          INTEGER NOT NULL,
    message     TEXT   NOT NULL
);
CREATE INDEX rule_errors_rule ON rule_errors (tenant_id, rule_id, at);

-- Each customer's last seen RFM segment and tier, and the changes seen.
CREATE TABLE customer_membership (
    tenant_id   TEXT   NOT NULL,
    customer_id TEXT   NOT NULL,
    segment     TEXT   NOT NULL,
    tier        TEXT   NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);
CREATE TABLE membership_events (
    tenant_id   TEXT   NOT NULL,
    event_id    TEXT   NOT NULL,
    customer_id TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    previous    TEXT   NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
);

-- What SetTier and Tag actions set; scores show it.
CREATE TABLE customer_marks (
    tenant_id     TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    tier_override TEXT,
    tier_origin   TEXT,
    tags          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- The schedule pass: one row per tenant with published rules, leased like
-- refresh_leases.
CREATE TABLE rules_schedule (
    tenant_id    TEXT   NOT NULL PRIMARY KEY,
    due_at       INTEGER NOT NULL,
    leased_until INTEGER
);
