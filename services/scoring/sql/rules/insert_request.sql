INSERT INTO rule_requests (tenant_id, request_id, operation, rule_id, version)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, request_id) DO NOTHING
