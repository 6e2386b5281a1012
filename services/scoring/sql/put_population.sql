INSERT INTO population (tenant_id, computed_at, customers, breakpoints, tier_cutoffs)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (tenant_id) DO UPDATE SET
    computed_at   = excluded.computed_at,
    customers     = excluded.customers,
    breakpoints   = excluded.breakpoints,
    tier_cutoffs  = excluded.tier_cutoffs,
    last_error    = NULL,
    last_error_at = NULL
