-- $1 is a JSON array of the delivered row ids.
DELETE FROM outbox WHERE id IN (SELECT value FROM json_each($1))
