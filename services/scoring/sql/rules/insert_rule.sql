INSERT INTO rules (tenant_id, rule_id, name, latest_version, published_version, enabled,
                   created_at, updated_at)
VALUES ($1, $2, $3, 1, 0, true, $4, $4)
