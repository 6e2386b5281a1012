-- Appends a batch of audit events in one statement (Postgres).
INSERT INTO audit_events (id, tenant_id, at, actor, rpc, target, summary)
SELECT *
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
            $7::text[])
