INSERT INTO templates
    (tenant_id, name, channel, locale, version, subject, body, required_data,
     default_locale, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (tenant_id, name, channel, locale, version) DO NOTHING
