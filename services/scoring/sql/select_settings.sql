SELECT settings, version, updated_at FROM settings WHERE tenant_id = $1
