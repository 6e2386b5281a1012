INSERT INTO customer_days (tenant_id, customer_id, day, purchases, purchase_minor)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id, customer_id, day) DO UPDATE SET
    purchases      = customer_days.purchases + excluded.purchases,
    purchase_minor = customer_days.purchase_minor + excluded.purchase_minor
