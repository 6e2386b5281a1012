INSERT INTO customer_monthly AS m (tenant_id, customer_id, month, net_minor)
SELECT $1, d.customer_id, d.month, d.net_minor
FROM UNNEST($2::uuid[], $3::text[], $4::bigint[]) AS d (customer_id, month, net_minor)
ON CONFLICT (tenant_id, customer_id, month) DO UPDATE SET net_minor = m.net_minor + EXCLUDED.net_minor
