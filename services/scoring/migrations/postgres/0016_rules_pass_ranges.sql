-- A large tenant's schedule pass split into ranges of customer ids, so that
-- every replica's rules worker can take a part of it. One row per range of a
-- pass (the tenant's rules_schedule due time); each is leased like the pass
-- itself, marked done when evaluated, and the rows of a pass are deleted when
-- its last range is done and the tenant rescheduled. A range holds the ids
-- from first_id to last_id, both included. The table holds the passes under
-- way only (at most 1,024 rows each), so the claim reads it without an index.
CREATE TABLE rules_pass_ranges (
    tenant_id    uuid    NOT NULL,
    due_at       bigint  NOT NULL,
    range_no     bigint  NOT NULL,
    first_id     uuid    NOT NULL,
    last_id      uuid    NOT NULL,
    leased_until bigint,
    done         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, due_at, range_no)
);
