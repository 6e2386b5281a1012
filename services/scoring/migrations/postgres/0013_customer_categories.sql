-- Purchases and net spend per customer and product category, kept on the
-- apply path in the same transaction as the scores: what the report run's
-- category affinity and cross-sell list read, a page of customers at a
-- time by the primary key. Refunds take back net spend, never purchases; a
-- refund in a category never bought leaves a row with 0 purchases (not a
-- buyer). Transactions applied before this migration have no rows: scoring
-- keeps no raw transactions to backfill from.
CREATE TABLE customer_categories (
    tenant_id   uuid   NOT NULL,
    customer_id uuid   NOT NULL,
    category    text   NOT NULL,
    purchases   bigint NOT NULL,
    net_minor   bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, category)
);
