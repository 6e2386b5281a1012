INSERT INTO model_fits (tenant_id, version, model, fitted_at, observation_end, time_unit,
                        parameters, standard_errors, log_likelihood, iterations, converged,
                        customers, selected, fingerprint)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
