INSERT INTO customer_days AS d (tenant_id, customer_id, day, purchases, purchase_minor)
SELECT $1, x.customer_id, x.day, x.purchases, x.purchase_minor
FROM UNNEST($2::uuid[], $3::integer[], $4::bigint[], $5::bigint[])
     AS x (customer_id, day, purchases, purchase_minor)
ON CONFLICT (tenant_id, customer_id, day) DO UPDATE SET
    purchases      = d.purchases + EXCLUDED.purchases,
    purchase_minor = d.purchase_minor + EXCLUDED.purchase_minor
