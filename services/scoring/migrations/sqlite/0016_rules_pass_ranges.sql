-- A large tenant's schedule pass split into ranges of customer ids; see the
-- Postgres migration of the same number. Ids are text, which sorts as the
-- uuids do; times are microseconds since the epoch.
CREATE TABLE rules_pass_ranges (
    tenant_id    TEXT    NOT NULL,
    due_at       INTEGER NOT NULL,
    range_no     INTEGER NOT NULL,
    first_id     TEXT    NOT NULL,
    last_id      TEXT    NOT NULL,
    leased_until INTEGER,
    done         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, due_at, range_no)
);
