-- One customer's transactions, newest first, after the keyset cursor.
SELECT id, customer_id, source, external_id, kind, occurred_at, amount_minor,
       currency_code, margin_minor, cost_minor, category
FROM transactions
WHERE tenant_id = $1 AND customer_id = $2 AND (occurred_at, id) < ($3, $4)
ORDER BY occurred_at DESC, id DESC
LIMIT $5
