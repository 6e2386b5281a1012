INSERT INTO membership_events (tenant_id, event_id, customer_id, kind, value, previous, at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, event_id) DO NOTHING
