INSERT INTO rules_schedule (tenant_id, due_at, leased_until)
VALUES ($1, $2, NULL)
ON CONFLICT (tenant_id) DO NOTHING
