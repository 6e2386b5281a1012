INSERT INTO score_changes (tenant_id, customer_id, at, event)
SELECT $1, c, t, e
  FROM UNNEST($2::uuid[], $3::timestamptz[], $4::bytea[]) WITH ORDINALITY AS r(c, t, e, n)
 ORDER BY n
