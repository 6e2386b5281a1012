-- Purchases and net spend per customer and product category; see the
-- Postgres migration of the same number.
CREATE TABLE customer_categories (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    purchases   INTEGER NOT NULL,
    net_minor   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, category)
);

-- SQLite turns an integer sum past 64 bits into a real; refuse it as the
-- other totals do (migration 5), so the change is dead-lettered and Postgres
-- and SQLite agree.
CREATE TRIGGER customer_categories_in_range BEFORE UPDATE ON customer_categories
WHEN typeof(NEW.purchases) = 'real' OR typeof(NEW.net_minor) = 'real'
BEGIN
    SELECT RAISE(ABORT, 'customer totals would exceed the representable range');
END;
