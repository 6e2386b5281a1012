SELECT xid, seq, event
  FROM score_changes
 WHERE tenant_id = $1 AND seq > $2
 ORDER BY seq
 LIMIT $3
