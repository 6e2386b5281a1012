-- Claims one dedupe key; a key seen before changes nothing.
INSERT INTO opportunity_event_keys (tenant_id, source, external_id, id) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
