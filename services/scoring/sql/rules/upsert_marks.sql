INSERT INTO customer_marks (tenant_id, customer_id, tier_override, tier_origin, tags)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, customer_id)
DO UPDATE SET tier_override = excluded.tier_override, tier_origin = excluded.tier_origin,
              tags = excluded.tags
