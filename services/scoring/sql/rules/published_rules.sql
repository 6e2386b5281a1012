SELECT r.rule_id, v.version, v.definition
FROM rules r
JOIN rule_versions v
  ON v.tenant_id = r.tenant_id AND v.rule_id = r.rule_id AND v.version = r.published_version
WHERE r.tenant_id = $1 AND r.enabled AND r.published_version > 0
ORDER BY r.rule_id
