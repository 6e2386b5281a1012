SELECT version, model, fitted_at, observation_end, time_unit, parameters, standard_errors,
       log_likelihood, iterations, converged, customers, selected, fingerprint
FROM model_fits
WHERE tenant_id = $1 AND version = ANY($2)
ORDER BY version DESC, selected DESC, model
