-- Postgres turns the rules tables' tenant and customer ids into uuid. SQLite
-- keeps every uuid as text, so nothing changes here.
SELECT 1;
