SELECT id, customer_id, dedupe_key, channel, destination, subject, body, status, attempt_count,
       created_at, next_attempt_at, delivered_at, last_error, provider_message_id,
       suppressed_reason, purpose, template, locale, template_version, origin, send_at,
       integration_endpoint
FROM notifications
WHERE tenant_id = $1 AND id = $2
