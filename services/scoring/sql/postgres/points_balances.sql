SELECT a.customer_id, a.balance,
       COALESCE((SELECT SUM(l.remaining) FROM points_ledger l
                  WHERE l.tenant_id = a.tenant_id AND l.customer_id = a.customer_id
                    AND l.remaining > 0 AND l.expires_at IS NOT NULL
                    AND l.expires_at <= $3), 0)::bigint
  FROM points_accounts a
 WHERE a.tenant_id = $1 AND a.customer_id = ANY($2)
