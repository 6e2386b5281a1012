-- The customer's contact-state row, created on first contact; the caller
-- then locks it (Postgres) so cap checks for one customer run one at a time.
INSERT INTO contact_state (tenant_id, customer_id) VALUES ($1, $2)
ON CONFLICT (tenant_id, customer_id) DO NOTHING
