INSERT INTO settings (tenant_id, version, settings, updated_at) VALUES ($1, 1, $2, $3)
ON CONFLICT (tenant_id) DO UPDATE SET version = settings.version + 1,
    settings = excluded.settings, updated_at = excluded.updated_at
RETURNING version
