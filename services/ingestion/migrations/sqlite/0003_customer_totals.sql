-- Per customer, the sum over stored transactions of the largest of |amount|,
-- |margin| and cost: a bound on every money total scoring keeps for them (see
-- the Postgres migration).
CREATE TABLE customer_totals (
    tenant_id   TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    total_minor INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
) WITHOUT ROWID;

-- Customers with transactions stored before this table existed. total() adds
-- in floating point, so it cannot overflow as sum() would; it is exact below
-- 2^53 and within a few thousand minor units above, far less than the room
-- the bound leaves below 64 bits. A total past 64 bits is kept at the
-- largest integer, which refuses anything more.
INSERT INTO customer_totals (tenant_id, customer_id, total_minor)
SELECT tenant_id, customer_id,
       CAST(min(total(max(abs(amount_minor), abs(coalesce(margin_minor, 0)),
                          abs(coalesce(cost_minor, 0)))),
                9223372036854775807.0) AS INTEGER)
FROM transactions
GROUP BY tenant_id, customer_id;
