SELECT xid::text::bigint AS xid, seq, event
  FROM score_changes
 WHERE tenant_id = $1
   AND (xid, seq) > ($2::text::xid8, $3)
   AND xid < pg_snapshot_xmin(pg_current_snapshot())
 ORDER BY xid, seq
 LIMIT $4
