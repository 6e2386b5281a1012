-- Gives back the keys of refused rows, so the same rows can be sent again
-- later instead of being taken for duplicates.
DELETE FROM transaction_keys AS k
USING UNNEST($2::text[], $3::text[]) AS r (source, external_id)
WHERE k.tenant_id = $1 AND k.source = r.source AND k.external_id = r.external_id
