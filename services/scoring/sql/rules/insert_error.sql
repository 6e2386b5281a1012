INSERT INTO rule_errors (tenant_id, rule_id, version, customer_id, at, message)
VALUES ($1, $2, $3, $4, $5, $6)
