UPDATE points_accounts AS a
   SET balance = u.balance, earned = u.earned, accrued = u.accrued, reversed = u.reversed,
       redeemed = u.redeemed, expired = u.expired, adjusted = u.adjusted,
       entries = u.entries, birthday_year = u.birthday_year, welcomed = u.welcomed,
       updated_at = $13
  FROM UNNEST($2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
              $8::bigint[], $9::bigint[], $10::bigint[], $11::int[], $12::bool[])
       AS u(customer_id, balance, earned, accrued, reversed, redeemed, expired, adjusted,
            entries, birthday_year, welcomed)
 WHERE a.tenant_id = $1 AND a.customer_id = u.customer_id
