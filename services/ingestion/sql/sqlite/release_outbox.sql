-- $1 is a JSON array of row ids whose delivery failed: leased until $2
-- (microseconds), the tenant's next try; anyone may take them after it.
UPDATE outbox SET leased_until = $2 WHERE id IN (SELECT value FROM json_each($1))
