SELECT r.rule_id, r.name, r.latest_version, r.published_version, r.enabled, r.created_at,
       r.updated_at, v.version, v.definition, v.author, v.created_at AS version_created_at,
       v.published_at
FROM rules r
JOIN rule_versions v
  ON v.tenant_id = r.tenant_id AND v.rule_id = r.rule_id AND v.version = r.latest_version
