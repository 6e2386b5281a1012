-- The back-off chosen after each failed attempt, so retries can be audited.
ALTER TABLE attempts ADD COLUMN retry_delay_ms integer NOT NULL DEFAULT 0;
