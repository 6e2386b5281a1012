-- A row noted before any population was computed has no breakpoints and
-- computed_at set to the note's time; breakpoints stay NULL until computed.
INSERT INTO population (tenant_id, computed_at, customers, tier_cutoffs, preferred_model,
                        last_error, last_error_at)
VALUES ($1, $4, 0, '{}', $2, $3, CASE WHEN $3 IS NULL THEN NULL ELSE $4 END)
ON CONFLICT (tenant_id) DO UPDATE SET
    preferred_model = COALESCE(excluded.preferred_model, population.preferred_model),
    last_error      = COALESCE(excluded.last_error, population.last_error),
    last_error_at   = COALESCE(excluded.last_error_at, population.last_error_at)
