INSERT INTO population AS p (tenant_id, computed_at, customers, breakpoints, tier_cutoffs)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id) DO UPDATE SET
    computed_at   = EXCLUDED.computed_at,
    customers     = EXCLUDED.customers,
    breakpoints   = EXCLUDED.breakpoints,
    tier_cutoffs  = EXCLUDED.tier_cutoffs,
    last_error    = NULL,
    last_error_at = NULL
