INSERT INTO customer_categories AS c (tenant_id, customer_id, category, purchases, net_minor)
SELECT $1, d.customer_id, d.category, d.purchases, d.net_minor
FROM UNNEST($2::uuid[], $3::text[], $4::bigint[], $5::bigint[])
     AS d (customer_id, category, purchases, net_minor)
ON CONFLICT (tenant_id, customer_id, category) DO UPDATE SET
    purchases = c.purchases + EXCLUDED.purchases,
    net_minor = c.net_minor + EXCLUDED.net_minor
