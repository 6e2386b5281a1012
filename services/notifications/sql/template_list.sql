-- Latest versions, keyset-paged by (name, channel, locale).
SELECT t.name, t.channel, t.locale, t.version, t.subject, t.body, t.required_data,
       t.default_locale, t.updated_at
FROM templates t
WHERE t.tenant_id = $1 AND (t.name, t.channel, t.locale) > ($2, $3, $4)
  AND t.version = (SELECT MAX(v.version) FROM templates v
                   WHERE v.tenant_id = t.tenant_id AND v.name = t.name
                     AND v.channel = t.channel AND v.locale = t.locale)
ORDER BY t.name, t.channel, t.locale
LIMIT $5
