INSERT INTO outbox (tenant_id, customer_id, change, created_at) VALUES ($1, $2, $3, $4)
