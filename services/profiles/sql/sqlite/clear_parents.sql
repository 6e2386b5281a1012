-- Before deleting customers: their children lose their parent. SQLite has no
-- foreign key on parent_id (its SET NULL would clear tenant_id too).
UPDATE customers SET parent_id = NULL
WHERE tenant_id = $1 AND parent_id IN (SELECT value FROM json_each($2))
