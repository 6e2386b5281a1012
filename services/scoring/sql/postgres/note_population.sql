-- A row noted before any population was computed has no breakpoints and
-- computed_at set to the note's time; breakpoints stay NULL until computed.
INSERT INTO population AS p (tenant_id, computed_at, customers, tier_cutoffs, preferred_model,
                             last_error, last_error_at)
VALUES ($1, $4, 0, '{}', $2, $3, CASE WHEN $3::text IS NULL THEN NULL ELSE $4 END)
ON CONFLICT (tenant_id) DO UPDATE SET
    preferred_model = COALESCE(EXCLUDED.preferred_model, p.preferred_model),
    last_error      = COALESCE(EXCLUDED.last_error, p.last_error),
    last_error_at   = COALESCE(EXCLUDED.last_error_at, p.last_error_at)
