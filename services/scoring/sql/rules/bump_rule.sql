-- A new latest version, only over the expected one ($4), so concurrent edits
-- cannot both win.
UPDATE rules
SET latest_version = $4 + 1, name = $3, updated_at = $5
WHERE tenant_id = $1 AND rule_id = $2 AND latest_version = $4
