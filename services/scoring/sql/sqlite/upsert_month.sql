INSERT INTO customer_monthly (tenant_id, customer_id, month, net_minor)
VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, customer_id, month) DO UPDATE SET
    net_minor = customer_monthly.net_minor + excluded.net_minor
