INSERT INTO customer_categories (tenant_id, customer_id, category, purchases, net_minor)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, customer_id, category) DO UPDATE SET
    purchases = customer_categories.purchases + excluded.purchases,
    net_minor = customer_categories.net_minor + excluded.net_minor
