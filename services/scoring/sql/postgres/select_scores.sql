SELECT customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
       refund_count, purchase_total_minor, refund_total_minor, currency_code,
       last_interaction_at, interaction_count, updated_at, purchase_days, purchase_weeks,
       first_day_purchase_minor, first_week_purchase_minor, margin_total_minor,
       wallet_estimate_minor
FROM customer_scores
WHERE tenant_id = $1 AND customer_id = ANY($2)
