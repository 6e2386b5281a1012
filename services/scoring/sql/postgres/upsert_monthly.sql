INSERT INTO customer_monthly AS m (tenant_id, customer_id, month, net_minor, margin_minor, purchases)
SELECT $1, d.customer_id, d.month, d.net_minor, d.margin_minor, d.purchases
FROM UNNEST($2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
     AS d (customer_id, month, net_minor, margin_minor, purchases)
ON CONFLICT (tenant_id, customer_id, month) DO UPDATE SET
    net_minor    = m.net_minor + EXCLUDED.net_minor,
    margin_minor = m.margin_minor + EXCLUDED.margin_minor,
    purchases    = m.purchases + EXCLUDED.purchases
