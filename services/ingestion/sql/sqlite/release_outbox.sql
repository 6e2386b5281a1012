-- $1 is a JSON array of row ids whose delivery failed: anyone may take them again.
UPDATE outbox SET leased_until = NULL WHERE id IN (SELECT value FROM json_each($1))
