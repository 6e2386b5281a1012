INSERT INTO attempts
    (tenant_id, customer_id, notification_id, number, started_at, succeeded,
     http_status, error, duration_ms, retry_delay_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
