-- customer_days is a scores table: ids and days native on each backend.
SELECT CAST(COALESCE(SUM(purchases), 0) AS BIGINT) FROM customer_days
WHERE tenant_id = $1 AND customer_id = $2 AND day > $3 AND day <= $4
