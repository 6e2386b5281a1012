-- Followed by ../score_conflict.sql.
INSERT INTO customer_scores (
    tenant_id, customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
    refund_count, purchase_total_minor, refund_total_minor, currency_code,
    last_interaction_at, interaction_count, updated_at, purchase_days, purchase_weeks,
    first_day_purchase_minor, first_week_purchase_minor, margin_total_minor)
SELECT $1, d.customer_id, 1, d.first_purchase_at, d.last_purchase_at, d.purchase_count,
       d.refund_count, d.purchase_total, d.refund_total, $2,
       d.last_interaction_at, d.interaction_count, $3, d.purchase_days, d.purchase_weeks,
       d.first_day, d.first_week, d.margin_total
FROM UNNEST($4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::bigint[], $8::bigint[],
            $9::bigint[], $10::bigint[], $11::timestamptz[], $12::bigint[], $13::bigint[],
            $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[])
     AS d (customer_id, first_purchase_at, last_purchase_at, purchase_count, refund_count,
           purchase_total, refund_total, last_interaction_at, interaction_count,
           purchase_days, purchase_weeks, first_day, first_week, margin_total)
