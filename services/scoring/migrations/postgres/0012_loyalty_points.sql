-- Loyalty points (LoyaltyService). One programme per tenant; per customer an
-- account row (the balance and totals, locked by every writer of the
-- customer's points) and a ledger of entries, each with an idempotency key.
-- Entries that earn points are also lots: `remaining` is what is left of
-- them to spend or expire, so the sum of a customer's remaining lots is
-- always the balance when it is positive, and 0 when a refund left it owing.
CREATE TABLE points_programmes (
    tenant_id  uuid        NOT NULL PRIMARY KEY,
    -- The terms as JSON (points per unit and multipliers in thousandths).
    programme  text        NOT NULL,
    version    bigint      NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    -- The day (YYYY-MM-DD) of the last birthday pass, claimed by one worker.
    birthdays_on text      NOT NULL DEFAULT ''
);

CREATE TABLE points_accounts (
    tenant_id     uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    balance       bigint      NOT NULL DEFAULT 0,
    -- Accruals and bonuses net of reversals; reversals alone (their cap).
    earned        bigint      NOT NULL DEFAULT 0,
    accrued       bigint      NOT NULL DEFAULT 0,
    reversed      bigint      NOT NULL DEFAULT 0,
    redeemed      bigint      NOT NULL DEFAULT 0,
    expired       bigint      NOT NULL DEFAULT 0,
    adjusted      bigint      NOT NULL DEFAULT 0,
    -- Entries written so far: the next entry's sequence number.
    entries       bigint      NOT NULL DEFAULT 0,
    -- The last year a birthday bonus was granted.
    birthday_year integer     NOT NULL DEFAULT 0,
    -- Whether the welcome bonus was granted (or the programme had none).
    welcomed      boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

CREATE TABLE points_ledger (
    tenant_id     uuid        NOT NULL,
    customer_id   uuid        NOT NULL,
    seq           bigint      NOT NULL,
    entry_id      text        NOT NULL,
    kind          text        NOT NULL,
    points        bigint      NOT NULL,
    balance_after bigint      NOT NULL,
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    expires_at    timestamptz,
    remaining     bigint      NOT NULL DEFAULT 0,
    reason        text        NOT NULL DEFAULT '',
    -- What the request asked, to tell a replay from a reused request_id.
    request       text        NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, customer_id, seq)
);

CREATE UNIQUE INDEX points_ledger_entry ON points_ledger (tenant_id, customer_id, entry_id);
-- Redemptions and adjustments are idempotent by request_id per tenant.
CREATE UNIQUE INDEX points_ledger_request ON points_ledger (tenant_id, entry_id)
    WHERE kind IN ('redemption', 'adjustment');
-- Lots left to spend, oldest expiry first; and the expiry job's look for work.
CREATE INDEX points_ledger_lots ON points_ledger (tenant_id, customer_id, expires_at, seq)
    WHERE remaining > 0;
CREATE INDEX points_ledger_due ON points_ledger (expires_at)
    WHERE remaining > 0 AND expires_at IS NOT NULL;
