UPDATE customer_scores SET wallet_estimate_minor = $3, version = version + 1, updated_at = $4
WHERE tenant_id = $1 AND customer_id = $2 AND wallet_estimate_minor IS NOT $3
