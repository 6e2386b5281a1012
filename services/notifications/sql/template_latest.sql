SELECT name, channel, locale, version, subject, body, required_data, default_locale, updated_at
FROM templates
WHERE tenant_id = $1 AND name = $2 AND channel = $3 AND locale = $4
ORDER BY version DESC
LIMIT 1
