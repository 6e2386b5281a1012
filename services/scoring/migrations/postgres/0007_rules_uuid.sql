-- Tenant and customer ids in the rules tables become uuid, as in every other
-- table: half the bytes in rows and indexes, joins with the scores without a
-- cast, and one key type to distribute every table by (tenant_id) when the
-- store is sharded. Canonical text uuids sort as the uuids do, so pages read
-- by id keep their order. Each table is rewritten once, under its lock, so a
-- large rule_states or rule_firings holds rules work for the rewrite's length.
-- Replicas of the previous release bind these ids as text: until they are
-- replaced, their ApplyChanges (which queues rules work) and rules statements
-- fail, the relay retries the changes and queued work waits for its lease to
-- end, so new replicas take both (nothing is lost or counted twice; firings
-- stay once per episode). Scores lag for the length of the rollout.

ALTER TABLE rules
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid;

ALTER TABLE rule_versions
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid;

ALTER TABLE rule_requests
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid;

ALTER TABLE rules_queue
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE rule_states
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE rule_firings
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE rule_errors
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE customer_membership
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE membership_events
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE customer_marks
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid,
    ALTER COLUMN customer_id TYPE uuid USING customer_id::uuid;

ALTER TABLE rules_schedule
    ALTER COLUMN tenant_id TYPE uuid USING tenant_id::uuid;
