-- What the last refresh of a tenant's models did, so an operator can see over
-- the API why the models have not changed. Written by the background refresh
-- and by FitModels; error texts are error messages only, never personal data.
ALTER TABLE refresh_leases
    ADD COLUMN last_attempt_at timestamptz,
    ADD COLUMN last_success_at timestamptz,
    -- NULL when the last attempt succeeded.
    ADD COLUMN last_error      text,
    -- 'fitted', 'unchanged' (same inputs as the stored fit), 'unfittable', 'failed'.
    ADD COLUMN last_outcome    text;
