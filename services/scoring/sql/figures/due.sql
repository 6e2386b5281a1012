-- Tenants whose stored figures may be due, those without summary figures
-- first, then the oldest: summary figures missing or read before $1, or no
-- equity figures though the tenant has a fit. Small tenants have none
-- stored; the pass tells them apart by counting.
SELECT l.tenant_id
FROM refresh_leases l
LEFT JOIN population_figures s ON s.tenant_id = l.tenant_id AND s.kind = 'summary'
LEFT JOIN population_figures e ON e.tenant_id = l.tenant_id AND e.kind = 'equity'
WHERE s.as_of IS NULL
   OR s.as_of < $1
   OR (e.as_of IS NULL AND EXISTS (SELECT 1 FROM model_fits f WHERE f.tenant_id = l.tenant_id))
ORDER BY s.as_of IS NOT NULL, s.as_of, l.tenant_id
