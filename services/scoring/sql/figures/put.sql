INSERT INTO population_figures (tenant_id, kind, as_of, customers, duration_ms, response)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, kind) DO UPDATE SET
    as_of       = excluded.as_of,
    customers   = excluded.customers,
    duration_ms = excluded.duration_ms,
    response    = excluded.response
