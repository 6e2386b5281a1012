-- $1 tenant, $2 attempted at, $3 succeeded, $4 error, $5 outcome. A success
-- moves last_success_at; a failure keeps the last success it follows.
INSERT INTO refresh_leases
    (tenant_id, due_at, last_attempt_at, last_success_at, last_error, last_outcome)
VALUES ($1, $2, $2, CASE WHEN $3 THEN $2 END, $4, $5)
ON CONFLICT (tenant_id) DO UPDATE SET
    last_attempt_at = excluded.last_attempt_at,
    last_success_at = COALESCE(excluded.last_success_at, refresh_leases.last_success_at),
    last_error = excluded.last_error,
    last_outcome = excluded.last_outcome
