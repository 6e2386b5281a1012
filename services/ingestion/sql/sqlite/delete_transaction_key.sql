-- Gives back the key of a refused row, so it can be sent again later instead
-- of being taken for a duplicate.
DELETE FROM transaction_keys WHERE tenant_id = $1 AND source = $2 AND external_id = $3
