-- A repeated dedupe key inserts nothing; the caller then reads the stored row.
INSERT INTO notifications
    (tenant_id, customer_id, id, dedupe_key, channel, destination, subject, body,
     status, attempt_count, created_at, next_attempt_at, suppressed_reason, purpose,
     template, locale, template_version, origin, send_at, integration_endpoint)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
ON CONFLICT (tenant_id, dedupe_key) DO NOTHING
