-- Per customer: distinct purchase days, distinct Monday-to-Sunday weeks (day 0,
-- 1970-01-01, was a Thursday, hence the + 3), and the purchases on the first
-- day and in the first week.
WITH d AS (
    SELECT customer_id, day, (day + 3) / 7 AS week, purchase_minor,
           min(day) OVER (PARTITION BY customer_id) AS first_day
    FROM customer_days
    WHERE tenant_id = $1 AND customer_id IN (SELECT value FROM json_each($2))
)
SELECT customer_id,
       count(*),
       count(DISTINCT week),
       sum(CASE WHEN day = first_day THEN purchase_minor ELSE 0 END),
       sum(CASE WHEN week = (first_day + 3) / 7 THEN purchase_minor ELSE 0 END)
FROM d
GROUP BY customer_id
