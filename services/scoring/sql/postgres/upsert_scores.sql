INSERT INTO customer_scores AS s (
    tenant_id, customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
    refund_count, purchase_total_minor, refund_total_minor, currency_code,
    last_interaction_at, interaction_count, updated_at)
SELECT $1, d.customer_id, 1, d.first_purchase_at, d.last_purchase_at, d.purchase_count,
       d.refund_count, d.purchase_total, d.refund_total, $2,
       d.last_interaction_at, d.interaction_count, $3
FROM UNNEST($4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::bigint[], $8::bigint[],
            $9::bigint[], $10::bigint[], $11::timestamptz[], $12::bigint[])
     AS d (customer_id, first_purchase_at, last_purchase_at, purchase_count, refund_count,
           purchase_total, refund_total, last_interaction_at, interaction_count)
ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
    version              = s.version + 1,
    -- LEAST and GREATEST skip NULLs, so a side without purchases changes nothing.
    first_purchase_at    = LEAST(s.first_purchase_at, EXCLUDED.first_purchase_at),
    last_purchase_at     = GREATEST(s.last_purchase_at, EXCLUDED.last_purchase_at),
    purchase_count       = s.purchase_count + EXCLUDED.purchase_count,
    refund_count         = s.refund_count + EXCLUDED.refund_count,
    purchase_total_minor = s.purchase_total_minor + EXCLUDED.purchase_total_minor,
    refund_total_minor   = s.refund_total_minor + EXCLUDED.refund_total_minor,
    currency_code        = EXCLUDED.currency_code,
    last_interaction_at  = GREATEST(s.last_interaction_at, EXCLUDED.last_interaction_at),
    interaction_count    = s.interaction_count + EXCLUDED.interaction_count,
    updated_at           = EXCLUDED.updated_at
RETURNING customer_id, version, first_purchase_at, last_purchase_at, purchase_count,
          refund_count, purchase_total_minor, refund_total_minor, currency_code,
          last_interaction_at, interaction_count, updated_at
