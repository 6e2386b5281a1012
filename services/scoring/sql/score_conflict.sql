ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
    version              = customer_scores.version + 1,
    -- The earlier or later of two times, where a side without one (NULL)
    -- changes nothing: LEAST and GREATEST spelled so both backends run them.
    first_purchase_at    = COALESCE(CASE WHEN excluded.first_purchase_at < customer_scores.first_purchase_at
                                         THEN excluded.first_purchase_at
                                         ELSE customer_scores.first_purchase_at END,
                                    excluded.first_purchase_at),
    last_purchase_at     = COALESCE(CASE WHEN excluded.last_purchase_at > customer_scores.last_purchase_at
                                         THEN excluded.last_purchase_at
                                         ELSE customer_scores.last_purchase_at END,
                                    excluded.last_purchase_at),
    purchase_count       = customer_scores.purchase_count + excluded.purchase_count,
    refund_count         = customer_scores.refund_count + excluded.refund_count,
    purchase_total_minor = customer_scores.purchase_total_minor + excluded.purchase_total_minor,
    refund_total_minor   = customer_scores.refund_total_minor + excluded.refund_total_minor,
    currency_code        = excluded.currency_code,
    last_interaction_at  = COALESCE(CASE WHEN excluded.last_interaction_at > customer_scores.last_interaction_at
                                         THEN excluded.last_interaction_at
                                         ELSE customer_scores.last_interaction_at END,
                                    excluded.last_interaction_at),
    interaction_count    = customer_scores.interaction_count + excluded.interaction_count,
    updated_at           = excluded.updated_at,
    -- Recounted from customer_days in the same transaction: absolute values.
    purchase_days             = excluded.purchase_days,
    purchase_weeks            = excluded.purchase_weeks,
    first_day_purchase_minor  = excluded.first_day_purchase_minor,
    first_week_purchase_minor = excluded.first_week_purchase_minor,
    margin_total_minor        = customer_scores.margin_total_minor + excluded.margin_total_minor
RETURNING customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
          refund_count, purchase_total_minor, refund_total_minor, currency_code,
          last_interaction_at, interaction_count, updated_at, purchase_days, purchase_weeks,
          first_day_purchase_minor, first_week_purchase_minor, margin_total_minor,
          wallet_estimate_minor
