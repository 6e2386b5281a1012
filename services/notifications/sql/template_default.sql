-- The latest version of the template marked as the default locale.
SELECT t.name, t.channel, t.locale, t.version, t.subject, t.body, t.required_data,
       t.default_locale, t.updated_at
FROM templates t
WHERE t.tenant_id = $1 AND t.name = $2 AND t.channel = $3
  AND t.version = (SELECT MAX(v.version) FROM templates v
                   WHERE v.tenant_id = t.tenant_id AND v.name = t.name
                     AND v.channel = t.channel AND v.locale = t.locale)
  AND t.default_locale
ORDER BY t.locale
LIMIT 1
