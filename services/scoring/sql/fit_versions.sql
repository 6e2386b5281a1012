SELECT DISTINCT version FROM model_fits
WHERE tenant_id = $1 AND ($2 IS NULL OR version < $2)
ORDER BY version DESC
LIMIT $3
