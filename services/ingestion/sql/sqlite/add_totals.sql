-- Adds what the stored rows weigh to their customers' totals; $2 is a JSON
-- array of [customer id, minor units]. (WHERE true lets SQLite parse the
-- upsert after a SELECT.)
INSERT INTO customer_totals (tenant_id, customer_id, total_minor)
SELECT $1, json_extract(value, '$[0]'), json_extract(value, '$[1]')
FROM json_each($2)
WHERE true
ON CONFLICT (tenant_id, customer_id) DO UPDATE
SET total_minor = total_minor + excluded.total_minor
