-- Per customer, the sum over stored transactions of the largest of |amount|,
-- |margin| and cost. Every money total scoring keeps for a customer (purchase
-- and refund totals, net, margin, per day and per month) is a sum of some of
-- those values, so it is at most this. Ingestion refuses a transaction that
-- would take this past its bound, so those totals always fit in 64 bits.
CREATE TABLE customer_totals (
    tenant_id   uuid   NOT NULL,
    customer_id uuid   NOT NULL,
    total_minor bigint NOT NULL,
    PRIMARY KEY (tenant_id, customer_id)
);

-- Customers with transactions stored before this table existed. sum() of
-- bigint is numeric here, so it cannot overflow; a total already past 64 bits
-- is kept at the largest bigint, which refuses anything more.
INSERT INTO customer_totals (tenant_id, customer_id, total_minor)
SELECT tenant_id, customer_id,
       LEAST(
           sum(GREATEST(abs(amount_minor), abs(coalesce(margin_minor, 0)),
                        abs(coalesce(cost_minor, 0)))),
           9223372036854775807
       )::bigint
FROM transactions
GROUP BY tenant_id, customer_id;
