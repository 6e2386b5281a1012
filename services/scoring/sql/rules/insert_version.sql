INSERT INTO rule_versions (tenant_id, rule_id, version, definition, author, created_at,
                           published_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
