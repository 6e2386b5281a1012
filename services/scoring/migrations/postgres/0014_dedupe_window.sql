-- The dedupe table gets a retention window (issue 11): `applied_changes`
-- becomes partitioned by `change_day`, the day a change id carries. That
-- day is a pure function of the id (a partitioned table's unique key must
-- hold the partition column, so a redelivery on another day must compute
-- the same day to meet the earlier row): the UTC day of the UUIDv7 in
-- "txn:<v7>", "evt:<v7>" or a bare v7, and 1970-01-01 for every other id.
-- Ingestion mints v7 ids from this release on; a v7 change older than
-- scoring.dedupe_retention_days is refused (dead-lettered), so its day's
-- partition can be dropped. Rows of other ids share the 1970-01-01
-- partition and are trimmed by applied_at.
--
-- The rule, as the Rust code (dedupe::day) computes it on the apply path;
-- kept as a function so the copy below, and a test, can run it.
CREATE FUNCTION change_day(change_id text) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN u ~ '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
        THEN DATE '1970-01-01'
             + (('x' || lpad(substr(u, 1, 8) || substr(u, 10, 4), 16, '0'))::bit(64)::bigint
                / 86400000)::int
        ELSE DATE '1970-01-01'
    END
    FROM (SELECT CASE WHEN left(change_id, 4) IN ('txn:', 'evt:')
                      THEN substr(change_id, 5)
                      ELSE change_id END AS u) AS id
$$;

ALTER TABLE applied_changes RENAME TO applied_changes_unpartitioned;
ALTER INDEX applied_changes_pkey RENAME TO applied_changes_unpartitioned_pkey;

CREATE TABLE applied_changes (
    tenant_id   uuid        NOT NULL,
    change_id   text        NOT NULL,
    customer_id uuid        NOT NULL,
    applied_at  timestamptz NOT NULL,
    change_day  date        NOT NULL,
    PRIMARY KEY (tenant_id, change_id, change_day)
) PARTITION BY RANGE (change_day);

-- Ids without a day of their own. There is no DEFAULT partition: a v7 day
-- without its partition makes the retention pass's (or, as a fallback,
-- ApplyChanges') create it, so each day stays droppable whole.
CREATE TABLE applied_changes_legacy PARTITION OF applied_changes
    FOR VALUES FROM ('1970-01-01') TO ('1970-01-02');
-- What the retention pass trims the legacy partition by.
CREATE INDEX applied_changes_legacy_applied_at ON applied_changes_legacy (applied_at);

-- A partition for each v7 day already applied (ids that were not minted by
-- ingestion, which sent v4 ids until now); the retention pass drops those
-- past the window.
DO $$
DECLARE
    d date;
BEGIN
    FOR d IN SELECT DISTINCT change_day(change_id) FROM applied_changes_unpartitioned
             WHERE change_day(change_id) <> DATE '1970-01-01'
    LOOP
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF applied_changes FOR VALUES FROM (%L) TO (%L)',
            'applied_changes_d' || to_char(d, 'YYYYMMDD'), d, d + 1);
    END LOOP;
END
$$;

INSERT INTO applied_changes (tenant_id, change_id, customer_id, applied_at, change_day)
SELECT tenant_id, change_id, customer_id, applied_at, change_day(change_id)
FROM applied_changes_unpartitioned;

DROP TABLE applied_changes_unpartitioned;

-- The oldest day whose rows are still all kept: the retention pass raises
-- it before it drops a day. ApplyChanges refuses an older change even when
-- the window (raised since) would admit it, since its row may be gone.
CREATE TABLE dedupe_horizon (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    forgotten_before date    NOT NULL
);
