INSERT INTO score_changes (tenant_id, customer_id, at, event) VALUES ($1, $2, $3, $4)
