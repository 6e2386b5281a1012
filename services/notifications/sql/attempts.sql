SELECT number, started_at, succeeded, http_status, error, duration_ms, retry_delay_ms
FROM attempts
WHERE tenant_id = $1 AND customer_id = $2 AND notification_id = $3
ORDER BY number
