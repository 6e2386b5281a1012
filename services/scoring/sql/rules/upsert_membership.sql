INSERT INTO customer_membership (tenant_id, customer_id, segment, tier, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, customer_id)
DO UPDATE SET segment = excluded.segment, tier = excluded.tier, updated_at = excluded.updated_at
