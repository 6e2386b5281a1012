-- What the last refresh of a tenant's models did (see the Postgres migration
-- of the same number). Times are microseconds.
ALTER TABLE refresh_leases ADD COLUMN last_attempt_at INTEGER;
ALTER TABLE refresh_leases ADD COLUMN last_success_at INTEGER;
ALTER TABLE refresh_leases ADD COLUMN last_error TEXT;
ALTER TABLE refresh_leases ADD COLUMN last_outcome TEXT;
