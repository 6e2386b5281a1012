SELECT i.source, i.external_id, i.customer_id
FROM identities i
JOIN UNNEST($2::text[], $3::text[]) AS k (source, external_id)
  ON i.source = k.source AND i.external_id = k.external_id
WHERE i.tenant_id = $1
