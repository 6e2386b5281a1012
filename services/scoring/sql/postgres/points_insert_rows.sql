INSERT INTO points_ledger
    (tenant_id, customer_id, seq, entry_id, kind, points, balance_after,
     occurred_at, recorded_at, expires_at, remaining, reason, request)
SELECT $1, u.customer_id, u.seq, u.entry_id, u.kind, u.points, u.balance_after,
       u.occurred_at, $9, u.expires_at, u.remaining, u.reason, u.request
  FROM UNNEST($2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
              $8::timestamptz[], $10::timestamptz[], $11::bigint[], $12::text[], $13::text[])
       AS u(customer_id, seq, entry_id, kind, points, balance_after, occurred_at, expires_at,
            remaining, reason, request)
