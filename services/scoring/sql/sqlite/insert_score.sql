-- Followed by ../score_conflict.sql.
INSERT INTO customer_scores (
    tenant_id, customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
    refund_count, purchase_total_minor, refund_total_minor, currency_code,
    last_interaction_at, interaction_count, updated_at, purchase_days, purchase_weeks,
    first_day_purchase_minor, first_week_purchase_minor, margin_total_minor)
VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
