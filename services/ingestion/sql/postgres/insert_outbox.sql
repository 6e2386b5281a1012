-- In array order, so the relay delivers a customer's changes in the order
-- they were accepted.
INSERT INTO outbox (tenant_id, customer_id, change)
SELECT $1, o.customer_id, o.change
FROM UNNEST($2::uuid[], $3::bytea[]) WITH ORDINALITY AS o (customer_id, change, n)
ORDER BY o.n
