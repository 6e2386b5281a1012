INSERT INTO customer_monthly (tenant_id, customer_id, month, net_minor, margin_minor, purchases)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, customer_id, month) DO UPDATE SET
    net_minor    = customer_monthly.net_minor + excluded.net_minor,
    margin_minor = customer_monthly.margin_minor + excluded.margin_minor,
    purchases    = customer_monthly.purchases + excluded.purchases
