SELECT computed_at, customers, breakpoints, tier_cutoffs, preferred_model, last_error
FROM population WHERE tenant_id = $1
