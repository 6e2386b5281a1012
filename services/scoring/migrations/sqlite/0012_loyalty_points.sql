-- Loyalty points (LoyaltyService); see the Postgres migration of the same
-- number. Times are microseconds since the epoch.
CREATE TABLE points_programmes (
    tenant_id  TEXT    NOT NULL PRIMARY KEY,
    programme  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    birthdays_on TEXT  NOT NULL DEFAULT ''
);

CREATE TABLE points_accounts (
    tenant_id     TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    balance       INTEGER NOT NULL DEFAULT 0,
    earned        INTEGER NOT NULL DEFAULT 0,
    accrued       INTEGER NOT NULL DEFAULT 0,
    reversed      INTEGER NOT NULL DEFAULT 0,
    redeemed      INTEGER NOT NULL DEFAULT 0,
    expired       INTEGER NOT NULL DEFAULT 0,
    adjusted      INTEGER NOT NULL DEFAULT 0,
    entries       INTEGER NOT NULL DEFAULT 0,
    birthday_year INTEGER NOT NULL DEFAULT 0,
    welcomed      INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE points_ledger (
    tenant_id     TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    entry_id      TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    points        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    occurred_at   INTEGER NOT NULL,
    recorded_at   INTEGER NOT NULL,
    expires_at    INTEGER,
    remaining     INTEGER NOT NULL DEFAULT 0,
    reason        TEXT    NOT NULL DEFAULT '',
    request       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, customer_id, seq)
);

CREATE UNIQUE INDEX points_ledger_entry ON points_ledger (tenant_id, customer_id, entry_id);
CREATE UNIQUE INDEX points_ledger_request ON points_ledger (tenant_id, entry_id)
    WHERE kind IN ('redemption', 'adjustment');
CREATE INDEX points_ledger_lots ON points_ledger (tenant_id, customer_id, expires_at, seq)
    WHERE remaining > 0;
CREATE INDEX points_ledger_due ON points_ledger (expires_at)
    WHERE remaining > 0 AND expires_at IS NOT NULL;
