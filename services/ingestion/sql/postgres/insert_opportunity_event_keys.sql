-- Claims the dedupe keys of a batch; only keys not seen before come back.
INSERT INTO opportunity_event_keys (tenant_id, source, external_id, id)
SELECT $1, k.source, k.external_id, k.id
FROM UNNEST($2::text[], $3::text[], $4::uuid[]) AS k (source, external_id, id)
ON CONFLICT DO NOTHING
RETURNING id
