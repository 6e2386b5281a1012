UPDATE customer_scores AS s SET wallet_estimate_minor = u.estimate,
    version = s.version + 1, updated_at = $4
FROM UNNEST($2::uuid[], $3::bigint[]) AS u (customer_id, estimate)
WHERE s.tenant_id = $1 AND s.customer_id = u.customer_id
  AND s.wallet_estimate_minor IS DISTINCT FROM u.estimate
RETURNING s.customer_id
