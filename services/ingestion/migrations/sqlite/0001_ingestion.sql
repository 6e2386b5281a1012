-- The Postgres tables without partitions: ids as TEXT, times as INTEGER
-- microseconds since the epoch.
CREATE TABLE transaction_keys (
    tenant_id   TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, external_id)
) WITHOUT ROWID;

CREATE TABLE transactions (
    tenant_id     TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    occurred_at   INTEGER NOT NULL,
    id            TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    external_id   TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('purchase', 'refund')),
    amount_minor  INTEGER NOT NULL,
    currency_code TEXT    NOT NULL,
    margin_minor  INTEGER,
    cost_minor    INTEGER,
    category      TEXT    NOT NULL DEFAULT '',
    ingested_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, occurred_at, id)
) WITHOUT ROWID;

CREATE TABLE event_keys (
    tenant_id   TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, source, external_id)
) WITHOUT ROWID;

CREATE TABLE events (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    occurred_at INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    external_id TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    properties  TEXT    NOT NULL DEFAULT '{}',
    ingested_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, occurred_at, id)
) WITHOUT ROWID;

-- AUTOINCREMENT so ids never come back after the outbox empties: the relay
-- deletes by id what it delivered.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    change      BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
